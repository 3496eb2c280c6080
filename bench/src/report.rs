//! A scenario's report: pretty JSON on stdout (and to `--json`, which `bench/report.py`
//! reads), and the same as an aligned table on stderr for the person watching.

use crate::target::Target;

pub fn print_report(target: &Target, report: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(report)?;
    if let Some(path) = &target.json {
        std::fs::write(path, &text)?;
    }
    eprintln!("{}", table(report));
    println!("{text}");
    Ok(())
}

/// The report as an aligned two-column table.
pub fn table(report: &serde_json::Value) -> String {
    fn rows(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    rows(&name, value, out);
                }
            }
            serde_json::Value::Number(n) => out.push((
                prefix.to_string(),
                n.as_f64()
                    .map(|f| {
                        if f.fract() == 0.0 {
                            format!("{f:.0}")
                        } else {
                            format!("{f:.3}")
                        }
                    })
                    .unwrap_or_default(),
            )),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    rows("", report, &mut out);
    let width = out.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    out.iter()
        .map(|(k, v)| format!("{k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}
