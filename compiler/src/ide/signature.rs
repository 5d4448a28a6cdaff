//! Signature help: the parameters of the connector action or function whose call the
//! cursor is in, and which argument it is at (commas at the call's own depth).

use crate::semantic::index::ProjectIndex;
use crate::source::Span;

use super::resolve::type_ref_text;

/// The signature of the call around the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureInfo {
    pub label: String,
    /// Each parameter's text, as it appears in `label`.
    pub params: Vec<String>,
    pub active: usize,
}

pub fn signature_at(
    index: &ProjectIndex,
    module: &str,
    text: &str,
    offset: usize,
) -> Option<SignatureInfo> {
    let offset = Span::at(offset).clamp_to(text).start as usize;
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    let mut commas = 0usize;
    let mut i = offset;
    let open = loop {
        if i == 0 {
            return None;
        }
        i -= 1;
        match bytes[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth > 0 => depth -= 1,
            b'(' => break i,
            b'[' | b'{' => return None,
            b',' if depth == 0 => commas += 1,
            b'\n' if depth == 0 && text[i + 1..offset].trim().is_empty() && commas == 0 => {}
            _ => {}
        }
    };
    let mut s = open;
    while s > 0
        && (bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'_' || bytes[s - 1] == b'.')
    {
        s -= 1;
    }
    let callee = &text[s..open];
    let (label_head, params): (String, Vec<String>) = match callee.split_once('.') {
        Some((c, a)) => {
            let sig = index.action(c, a)?;
            (
                format!("{c}.{a}"),
                sig.params
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", type_ref_text(t)))
                    .collect(),
            )
        }
        None => {
            let (def, _) = index.lookup_data(module, callee)?;
            let f = index.sig(&def.module)?.fns.get(&*def.name)?;
            (
                callee.to_string(),
                f.params
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", type_ref_text(t)))
                    .collect(),
            )
        }
    };
    Some(SignatureInfo {
        label: format!("{label_head}({})", params.join(", ")),
        active: commas.min(params.len().saturating_sub(1)),
        params,
    })
}
