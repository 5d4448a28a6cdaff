//! A staged rollout: an automation that promotes itself from shadow through partial
//! rollouts to every case, and rolls back, on criteria the runtime measures on its own
//! runs (docs/language.md §11.3, "Staged rollout"; docs/runtime.md, "Staged rollout").
//!
//! Carried in the bundle section `rollout_stages`, so bundles built before it decode with
//! no staged rollout (the automation's single-line `rollout` keeps its meaning).

use serde::{Deserialize, Serialize};

use super::{DurationSpec, EventId};

/// A stage of a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stage {
    /// Evaluated and recorded as `shadowed`; nothing executes.
    Shadow,
    /// Live for the keys whose bucket is below this, in hundredths of a percent (10000:
    /// every case).
    Percent(u32),
}

impl Stage {
    /// As the language writes it: `shadow`, `10%`, `12.5%`, `100%`.
    pub fn text(self) -> String {
        match self {
            Stage::Shadow => "shadow".into(),
            Stage::Percent(p) if p % 100 == 0 => format!("{}%", p / 100),
            Stage::Percent(p) => {
                let s = format!("{}.{:02}", p / 100, p % 100);
                format!("{}%", s.trim_end_matches('0'))
            }
        }
    }
}

/// What a criterion measures over the runs of the current stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Shadowed runs whose case then got the agreement event within its window.
    Agreement,
    /// Live runs that failed for good (as the breaker counts them).
    Failures,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Agreement => "agreement",
            Metric::Failures => "failures",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmp {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Cmp {
    pub fn text(self) -> &'static str {
        match self {
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
            Cmp::Le => "<=",
            Cmp::Lt => "<",
        }
    }
}

/// `agreement >= 95% over 200 runs`: over the last `over` measured runs of the stage (and
/// only once there are that many).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub metric: Metric,
    pub cmp: Cmp,
    /// Hundredths of a percent.
    pub threshold: u32,
    pub over: u32,
}

/// `FROM -> TO after D when CRITERIA`: every criterion holds and D has passed in FROM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    /// Indices into [`Stages::stages`].
    pub from: u32,
    pub to: u32,
    pub after: Option<DurationSpec>,
    pub criteria: Vec<Criterion>,
}

/// `rollback to STAGE when breaker trips or CRITERION or …`: any one suffices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    pub to: u32,
    pub breaker: bool,
    pub criteria: Vec<Criterion>,
}

/// `agreement when EVENT within D`: a shadowed run agrees when the event arrives for its
/// case within D of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub event: EventId,
    pub within: DurationSpec,
}

/// An automation's `rollout { … }` block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stages {
    /// Every stage the block names, the `start` stage first, then in order of appearance.
    pub stages: Vec<Stage>,
    pub agreement: Option<Agreement>,
    pub promotions: Vec<Promotion>,
    pub rollback: Option<Rollback>,
}

impl Stages {
    /// The longest window any criterion reads for a metric: how many runs to remember.
    pub fn window(&self, metric: Metric) -> usize {
        self.promotions
            .iter()
            .flat_map(|p| &p.criteria)
            .chain(self.rollback.iter().flat_map(|r| &r.criteria))
            .filter(|c| c.metric == metric)
            .map(|c| c.over as usize)
            .max()
            .unwrap_or(0)
    }

    pub fn stage(&self, i: u32) -> Stage {
        self.stages
            .get(i as usize)
            .copied()
            .unwrap_or(Stage::Shadow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_read_as_written() {
        assert_eq!(Stage::Shadow.text(), "shadow");
        assert_eq!(Stage::Percent(1000).text(), "10%");
        assert_eq!(Stage::Percent(1250).text(), "12.5%");
        assert_eq!(Stage::Percent(10_000).text(), "100%");
        assert!(Stage::Shadow < Stage::Percent(0));
    }
}
