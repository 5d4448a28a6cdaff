//! A readable rendering of the IR (`meshline build --emit ir`): every id shown with its
//! name, expressions in a compact prefix form, rules with their index keys.

use std::fmt::Write as _;

use crate::ir::*;

struct P<'a> {
    p: &'a Program,
}

impl P<'_> {
    fn team(&self, t: u32) -> String {
        self.p
            .teams
            .get(t as usize)
            .map_or(format!("team#{t}"), |t| t.name.clone())
    }
    fn event(&self, e: u32) -> String {
        self.p
            .events
            .get(e as usize)
            .map_or(format!("event#{e}"), |e| e.name.clone())
    }
    fn variant(&self, e: u32, v: u32) -> String {
        self.p
            .enums
            .get(e as usize)
            .map_or(format!("{e}.{v}"), |d| {
                format!(
                    "{}.{}",
                    d.name,
                    d.variants.get(v as usize).cloned().unwrap_or_default()
                )
            })
    }
    fn class(&self, v: u32) -> String {
        match &self.p.classify {
            Some(c) => self.variant(c.enum_id, v),
            None => format!("class#{v}"),
        }
    }
    fn action(&self, a: u32) -> String {
        self.p
            .actions
            .get(a as usize)
            .map_or(format!("action#{a}"), |d| {
                format!("{}.{}", d.connector, d.name)
            })
    }
    fn target(&self, t: &Target) -> String {
        match t {
            Target::Team(t) => self.team(*t),
            Target::Person(p) => format!("{p:?}"),
        }
    }
    fn dur(d: &DurationSpec) -> String {
        match d {
            DurationSpec::Wall(s) => crate::value::format_duration(*s),
            DurationSpec::Business(n, u) => format!("{n} business {u:?}").to_lowercase(),
        }
    }

    fn expr(&self, e: &Expr) -> String {
        match e {
            Expr::Lit(l) => match l {
                Lit::None => "none".into(),
                Lit::Bool(b) => b.to_string(),
                Lit::Int(i) => i.to_string(),
                Lit::Decimal(d) => d.clone(),
                Lit::Money { amount, currency } => format!("{amount} {currency}"),
                Lit::Percent(p) => format!("{p}%"),
                Lit::Duration(s) => crate::value::format_duration(*s),
                Lit::Business(n, u) => format!("{n} business {u:?}").to_lowercase(),
                Lit::Date { year, month, day } => format!("{year:04}-{month:02}-{day:02}"),
                Lit::TimeOfDay(m) => format!("{:02}:{:02}", m / 60, m % 60),
                Lit::Time(t) => t.clone(),
                Lit::Str(s) => format!("{s:?}"),
                Lit::Person(s) => format!("person({s:?})"),
                Lit::Variant(e, v) => self.variant(*e, *v),
                Lit::Team(t) => format!("team({})", self.team(*t)),
                Lit::Calendar(c) => format!(
                    "calendar({})",
                    self.p
                        .calendars
                        .get(*c as usize)
                        .map_or("?", |c| c.name.as_str())
                ),
            },
            Expr::Slot(s) => format!(
                "${}",
                self.p
                    .slots
                    .get(*s as usize)
                    .map_or("?", |s| s.name.as_str())
            ),
            Expr::Param(i) => format!("%{i}"),
            Expr::Const(i) => format!(
                "@{}",
                self.p
                    .consts
                    .get(*i as usize)
                    .map_or("?", |c| c.name.as_str())
            ),
            Expr::Ctx(c) => format!("{c:?}").to_lowercase(),
            Expr::Field(b, i) => format!("{}.{i}", self.expr(b)),
            Expr::OptField(b, i) => format!("{}?.{i}", self.expr(b)),
            Expr::Unwrap(b) => format!("{}!", self.expr(b)),
            Expr::Not(b) => format!("(not {})", self.expr(b)),
            Expr::Neg(b) => format!("(- {})", self.expr(b)),
            Expr::Binary(op, l, r) => format!("({op:?} {} {})", self.expr(l), self.expr(r))
                .replacen("(", "(", 1)
                .to_lowercase_op(),
            Expr::Matches(b, p) => format!("(matches {} {p:?})", self.expr(b)),
            Expr::Call(f, args) => {
                let name = self
                    .p
                    .functions
                    .get(*f as usize)
                    .map_or("?", |f| f.name.as_str());
                format!(
                    "({name} {})",
                    args.iter()
                        .map(|a| self.expr(a))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
            Expr::Builtin(f, args) => format!(
                "({} {})",
                format!("{f:?}").to_lowercase(),
                args.iter()
                    .map(|a| self.expr(a))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Expr::If(c, t, e) => format!("(if {} {} {})", self.expr(c), self.expr(t), self.expr(e)),
            Expr::Match {
                scrutinee,
                arms,
                default,
            } => {
                let mut s = format!("(match {}", self.expr(scrutinee));
                for (vs, e) in arms {
                    let _ = write!(
                        s,
                        " [{} -> {}]",
                        vs.iter().map(u32::to_string).collect::<Vec<_>>().join("|"),
                        self.expr(e)
                    );
                }
                if let Some(d) = default {
                    let _ = write!(s, " [_ -> {}]", self.expr(d));
                }
                s + ")"
            }
            Expr::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::Record { base, fields } => {
                let fs: Vec<String> = fields
                    .iter()
                    .map(|f| f.as_ref().map_or("_".into(), |e| self.expr(e)))
                    .collect();
                match base {
                    Some(b) => format!("{{..{} {}}}", self.expr(b), fs.join(", ")),
                    None => format!("{{{}}}", fs.join(", ")),
                }
            }
            Expr::IsSet(b) => format!("({} is set)", self.expr(b)),
            Expr::Previous(b) => format!("previous({})", self.expr(b)),
            Expr::Changed(b) => format!("changed({})", self.expr(b)),
            Expr::Quant { all, list, body } => format!(
                "({} _ in {}: {})",
                if *all { "all" } else { "any" },
                self.expr(list),
                self.expr(body)
            ),
            Expr::Elem(i) => format!("elem{i}"),
            Expr::Lookup(t, k) => {
                let name = self
                    .p
                    .tables
                    .get(*t as usize)
                    .map_or("?", |t| t.name.as_str());
                format!("{name}[{}]", self.expr(k))
            }
            Expr::Aggregate(a, k) => {
                let name = self
                    .p
                    .aggregates
                    .get(*a as usize)
                    .map_or("?", |a| a.name.as_str());
                format!("{name}[{}]", self.expr(k))
            }
        }
    }
}

trait LowerOp {
    fn to_lowercase_op(self) -> String;
}

impl LowerOp for String {
    /// `(Add a b)` → `(add a b)`: lower-case only the operator word after the paren.
    fn to_lowercase_op(self) -> String {
        let end = self.find(' ').unwrap_or(self.len());
        format!("{}{}", self[..end].to_lowercase(), &self[end..])
    }
}

/// Render a program.
pub fn render(p: &Program) -> String {
    let pr = P { p };
    let mut s = String::new();
    let _ = writeln!(s, "program {} {}", p.package, p.version);
    let _ = writeln!(s, "\nslots ({}):", p.slots.len());
    for (i, sl) in p.slots.iter().enumerate() {
        let _ = writeln!(
            s,
            "  ${} #{i}: {:?}{}",
            sl.name,
            sl.ty,
            if sl.fact { " fact" } else { "" }
        );
    }
    let _ = writeln!(s, "\nevents ({}):", p.events.len());
    for (i, e) in p.events.iter().enumerate() {
        let slots: Vec<String> = e
            .slots
            .iter()
            .map(|x| format!("${}", p.slots[*x as usize].name))
            .collect();
        let _ = writeln!(
            s,
            "  #{i} {} -> [{}]{}{}",
            e.name,
            slots.join(", "),
            if e.updates_facts {
                " updates-facts"
            } else {
                ""
            },
            e.builtin
                .map_or(String::new(), |b| format!(" builtin:{b:?}"))
        );
    }
    if !p.consts.is_empty() {
        let _ = writeln!(s, "\nconsts:");
        for c in &p.consts {
            let _ = writeln!(s, "  @{} = {}", c.name, pr.expr(&c.value));
        }
    }
    if !p.functions.is_empty() {
        let _ = writeln!(s, "\nfunctions:");
        for f in &p.functions {
            let _ = writeln!(s, "  {}/{} = {}", f.name, f.params, pr.expr(&f.body));
        }
    }
    let _ = writeln!(s, "\nteams:");
    for t in &p.teams {
        let cal = t
            .calendar
            .and_then(|c| p.calendars.get(c as usize))
            .map_or("-", |c| c.name.as_str());
        let _ = writeln!(
            s,
            "  {} calendar={} members={}",
            t.name,
            cal,
            t.members.join(",")
        );
    }
    if let Some(c) = &p.classify {
        let evs: Vec<String> = c.events.iter().map(|e| pr.event(*e)).collect();
        let _ = writeln!(s, "\nclassify on {}:", evs.join(", "));
        for (v, e) in &c.arms {
            let _ = writeln!(s, "  {} when {}", pr.class(*v), pr.expr(e));
        }
        let _ = writeln!(s, "  otherwise {}", pr.class(c.otherwise));
    }
    let _ = writeln!(
        s,
        "\nowners (acknowledge within {}):",
        p.acknowledge_within.as_ref().map_or("-".into(), P::dur)
    );
    for (v, o) in p.owners.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {} -> {} escalate {}",
            pr.class(v as u32),
            pr.team(o.owner),
            pr.team(o.escalate)
        );
    }
    let _ = writeln!(s, "\nroutes:");
    for r in &p.routes {
        let evs: Vec<String> = r.events.iter().map(|e| pr.event(*e)).collect();
        let index = match &r.requires {
            Some((Discriminant::Class, v)) => format!(" index[class={}]", pr.class(*v)),
            Some((Discriminant::Path(slot, path), v)) => {
                format!(
                    " index[${}.{}={v}]",
                    p.slots[*slot as usize].name,
                    path.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(".")
                )
            }
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "  {} on {} priority {}{index}\n    when {}\n    assign {} {:?}",
            r.name,
            evs.join(", "),
            r.priority,
            r.cond.as_ref().map_or("true".into(), |c| pr.expr(c)),
            pr.target(&r.target),
            r.strategy
        );
    }
    let _ = writeln!(s, "\nslas:");
    for sl in &p.slas {
        let classes: Vec<String> = sl.classes.iter().map(|c| pr.class(*c)).collect();
        let target = match &sl.target {
            SlaTarget::Fixed(d) => P::dur(d),
            SlaTarget::By { field, arms } => format!(
                "by {} [{}]",
                pr.expr(field),
                arms.iter().map(P::dur).collect::<Vec<_>>().join(", ")
            ),
        };
        let _ = writeln!(
            s,
            "  {} for {} target {target}",
            sl.name,
            classes.join(", ")
        );
        for (kw, ts) in [
            ("start", &sl.start),
            ("stop", &sl.stop),
            ("reset", &sl.reset),
        ] {
            for t in ts {
                let _ = writeln!(
                    s,
                    "    {kw} on {} when {}",
                    pr.event(t.event),
                    t.cond.as_ref().map_or("true".into(), |c| pr.expr(c))
                );
            }
        }
        if let Some(c) = &sl.pause {
            let _ = writeln!(s, "    pause when {}", pr.expr(c));
        }
        if let Some((pct, a)) = &sl.warn {
            let _ = writeln!(s, "    warn at {}.{:02}% -> {a:?}", pct / 100, pct % 100);
        }
        let _ = writeln!(s, "    breach -> {:?}", sl.breach);
    }
    let _ = writeln!(s, "\nactions:");
    for (i, a) in p.actions.iter().enumerate() {
        let params: Vec<String> = a.params.iter().map(|f| f.name.clone()).collect();
        let _ = writeln!(
            s,
            "  #{i} {}.{}({}) {:?}{}{}",
            a.connector,
            a.name,
            params.join(", "),
            a.effect,
            a.amount
                .as_ref()
                .map_or(String::new(), |e| format!(" amount={}", pr.expr(e))),
            a.compensate
                .map_or(String::new(), |c| format!(" compensate={}", pr.action(c)))
        );
    }
    let _ = writeln!(s, "\ngates:");
    for g in &p.gates {
        let acts: Vec<String> = g.actions.iter().map(|a| pr.action(*a)).collect();
        let _ = writeln!(
            s,
            "  {} on [{}]{} params [{}]\n    when {}\n    require {:?} expire {}",
            g.name,
            acts.join(", "),
            if g.all_automation_actions {
                " +automation"
            } else {
                ""
            },
            g.param_names.join(", "),
            g.cond.as_ref().map_or("true".into(), |c| pr.expr(c)),
            g.require,
            g.expire
                .as_ref()
                .map_or("-".into(), |(d, a)| format!("{} -> {a:?}", P::dur(d)))
        );
    }
    let _ = writeln!(s, "\nautomations:");
    for a in &p.automations {
        let evs: Vec<String> = a.events.iter().map(|e| pr.event(*e)).collect();
        let _ = writeln!(
            s,
            "  {} v{} owner {} on {} rollout {:?}",
            a.name,
            a.version,
            pr.team(a.owner),
            evs.join(", "),
            a.rollout
        );
        let _ = writeln!(
            s,
            "    when {}",
            a.cond.as_ref().map_or("true".into(), |c| pr.expr(c))
        );
        for (i, st) in a.steps.iter().enumerate() {
            match &st.kind {
                crate::ir::StepKind::Action => {}
                crate::ir::StepKind::Wait(d) => {
                    let _ = writeln!(s, "    step {i}: wait {d:?}");
                    continue;
                }
                crate::ir::StepKind::WaitUntil { cond, within } => {
                    let _ = writeln!(
                        s,
                        "    step {i}: wait until {} within {within:?}",
                        pr.expr(cond)
                    );
                    continue;
                }
                crate::ir::StepKind::Notify { to, template } => {
                    let _ = writeln!(s, "    step {i}: notify {to:?} template {template:?}");
                    continue;
                }
            }
            let args: Vec<String> = st.args.iter().map(|x| pr.expr(x)).collect();
            let _ = writeln!(
                s,
                "    step {i}: {}({}){}",
                pr.action(st.action),
                args.join(", "),
                st.waiver
                    .as_ref()
                    .map_or(String::new(), |w| format!(" @ungated({w:?})"))
            );
        }
        if let Some(b) = &a.breaker {
            let _ = writeln!(s, "    breaker {b:?}");
        }
    }
    if !p.aggregates.is_empty() {
        let _ = writeln!(s, "\naggregates:");
    }
    for a in &p.aggregates {
        let (width, n) = a.buckets();
        let window = a.window.map_or("all history".to_string(), |d| {
            format!(
                "over {} ({n} buckets of {width}s)",
                crate::value::format_duration(d)
            )
        });
        match &a.cases {
            Some(c) => {
                let _ = writeln!(s, "  {} open cases", a.name);
                let _ = writeln!(
                    s,
                    "    open cases by {}{}",
                    pr.expr(&c.key),
                    c.when
                        .as_ref()
                        .map_or(String::new(), |w| format!(" when {}", pr.expr(w)))
                );
            }
            None => {
                let _ = writeln!(s, "  {} {window} keep {}", a.name, a.keep);
            }
        }
        for f in &a.feeds {
            let _ = writeln!(
                s,
                "    on {} by {}{}",
                pr.event(f.event),
                pr.expr(&f.key),
                f.when
                    .as_ref()
                    .map_or(String::new(), |w| format!(" when {}", pr.expr(w)))
            );
        }
        for f in &a.fields {
            let op = match &f.op {
                crate::ir::AggOp::Count => "count".to_string(),
                crate::ir::AggOp::Sum(e) => format!("sum({})", pr.expr(e)),
                crate::ir::AggOp::Latest(e) => format!("latest({})", pr.expr(e)),
            };
            let _ = writeln!(s, "    {}: {:?} = {op}", f.name, f.ty);
        }
    }
    s
}

/// One expression, with names for slots, constants, functions and variants (an aggregate's
/// fingerprint uses it: numbering that changes with unrelated declarations is left out).
pub fn expr_text(p: &Program, e: &Expr) -> String {
    P { p }.expr(e)
}
