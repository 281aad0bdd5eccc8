//! `sealed-session`: operator tools for sealed-session deployments.
//!
//! ```text
//! sealed-session keygen                         a fresh secret for SESSION_KEYS
//! sealed-session key-ids --keys K               the key id of each secret, per algorithm
//! sealed-session inspect [--keys K] COOKIE...   what a session cookie holds, or why it fails
//! ```
//!
//! Run `sealed-session help` for every option.
#![forbid(unsafe_code)]

mod args;
mod output;

use std::io::{Read as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use sealed_session::inspect::Inspection;
use sealed_session::{
    Algorithm, EpochKeys, Keyring, Keys, LoadOutcome, Rejection, Secret, SessionBuilder,
};

use args::{Args, Command};

const USAGE: &str = "\
sealed-session: operator tools for sealed-session cookies

USAGE:
    sealed-session keygen
        Prints a fresh 32-byte secret in the base64 form SESSION_KEYS takes.
        Rotate with SESSION_KEYS=\"$(sealed-session keygen),$SESSION_KEYS\".

    sealed-session key-ids --keys K [--epoch-secs P] [--now T] [--json]
        Prints the key id of each secret of a SESSION_KEYS list for each algorithm:
        the ids sealed headers, logs and the opens-by-key metric name. With
        --epoch-secs, K is one master secret and the ids are those of the previous,
        current and next epoch.

    sealed-session inspect [OPTIONS] COOKIE...
        Without keys: each session value's header (format version, algorithm, key id,
        sizes) and the chunk cookies present. With --keys: which key or epoch opens
        it, its timestamps and deadlines, its entries' names and sizes (never their
        values), or the exact reason it does not open, as a server with the same
        settings would decide. Exits 0 when the session opens (header parses without
        keys), 1 when it does not, 2 on a usage error.

        COOKIE is a whole `Cookie:` (or `Set-Cookie:`) header, `name=value` pairs
        separated by `;`, or a bare value; several bare values are the chunks of one
        session in order (NAME, NAME.1, NAME.2, ...). `-` reads them from standard
        input, one per line.

OPTIONS:
    --keys K            the SESSION_KEYS list (comma-separated base64 secrets, newest
                        first); `-` reads it from standard input, `env:VAR` from the
                        environment variable VAR (safer than the command line, which
                        other users can see in the process list)
    --epoch-secs P      the keys are epoch keys of period P seconds (SESSION_EPOCH_SECS)
    --name N            the session cookie name (default: __Host-session, the
                        library's, or session when the input has only that name)
    --max-cookies M     how many cookies a session may span (default: 1)
    --idle-secs S       the idle timeout, 0 for none (default: 86400, or the epoch
                        period when that is shorter)
    --absolute-secs S   the absolute lifetime (default: 604800)
    --now T             check deadlines at Unix time T instead of now
    --json              JSON instead of text
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}\n\nRun `sealed-session help` for usage.");
            return ExitCode::from(2);
        }
    };
    let result = match args.command {
        Command::Help => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen => {
            println!("{}", Secret::generate().to_base64());
            Ok(ExitCode::SUCCESS)
        }
        Command::KeyIds => key_ids(&args),
        Command::Inspect => inspect(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The keys from `--keys` (a list, `-` or `env:VAR`), or `None` without the option.
fn secrets(args: &Args) -> Result<Option<Vec<Secret>>, String> {
    let Some(spec) = &args.keys else {
        return Ok(None);
    };
    let list = if spec == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("reading the keys from standard input: {e}"))?;
        s
    } else if let Some(var) = spec.strip_prefix("env:") {
        std::env::var(var).map_err(|_| format!("--keys env:{var}: {var} is not set"))?
    } else {
        spec.clone()
    };
    let secrets = Secret::list_from_base64(list.trim()).map_err(|e| format!("--keys: {e}"))?;
    Ok(Some(secrets))
}

fn epoch_keys(master: Vec<Secret>, period: u64) -> Result<EpochKeys, String> {
    let [master] = <[Secret; 1]>::try_from(master).map_err(|s| {
        format!(
            "--epoch-secs takes exactly one master secret in --keys, not {}",
            s.len()
        )
    })?;
    EpochKeys::new(master, Duration::from_secs(period)).map_err(|e| format!("--epoch-secs: {e}"))
}

fn now(args: &Args) -> u64 {
    args.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

fn key_ids(args: &Args) -> Result<ExitCode, String> {
    let secrets = secrets(args)?.ok_or("key-ids needs --keys")?;
    let rows: Vec<output::KeyRow> = match args.epoch_secs {
        Some(period) => {
            let keys = epoch_keys(secrets, period)?;
            let current = keys.epoch_at(now(args));
            [
                current.checked_sub(1),
                Some(current),
                current.checked_add(1),
            ]
            .into_iter()
            .flatten()
            .map(|epoch| output::KeyRow {
                label: output::KeyLabel::Epoch {
                    epoch,
                    current: epoch == current,
                    starts: epoch.saturating_mul(period),
                },
                ids: Algorithm::ALL
                    .iter()
                    .map(|a| (*a, keys.key_id(epoch, *a)))
                    .collect(),
            })
            .collect()
        }
        None => {
            let ring = Keyring::from_secrets(secrets).map_err(|e| e.to_string())?;
            let per_alg: Vec<_> = Algorithm::ALL
                .iter()
                .map(|a| (*a, ring.key_ids(*a)))
                .collect();
            (0..ring.len())
                .map(|index| output::KeyRow {
                    label: output::KeyLabel::Ring { index },
                    ids: per_alg
                        .iter()
                        .filter_map(|(a, ids)| Some((*a, *ids.get(index)?)))
                        .collect(),
                })
                .collect()
        }
    };
    let text = if args.json {
        output::key_ids_json(&rows)
    } else {
        output::key_ids_text(&rows)
    };
    write_out(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: &Args) -> Result<ExitCode, String> {
    let mut cookies = args.cookies.clone();
    if cookies.iter().any(|c| c == "-") {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| format!("reading cookies from standard input: {e}"))?;
        cookies.retain(|c| c != "-");
        cookies.extend(
            input
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if cookies.is_empty() {
        return Err(
            "inspect needs at least one cookie (a value, name=value, or a Cookie header)".into(),
        );
    }
    let secrets = secrets(args)?;
    let with_keys = secrets.is_some();
    let keys: Keys = match (secrets, args.epoch_secs) {
        (Some(s), Some(period)) => epoch_keys(s, period)?.into(),
        (Some(s), None) => Keyring::from_secrets(s).map_err(|e| e.to_string())?.into(),
        // Without keys nothing opens; a throwaway key lets the same reader parse the headers.
        (None, _) => Secret::generate().into(),
    };
    let at = now(args);
    let idle = match args.idle_secs {
        Some(0) => None,
        Some(s) => Some(Duration::from_secs(s)),
        // A server with epoch keys has an idle timeout of at most one period.
        None => Some(Duration::from_secs(
            args.epoch_secs.map_or(86_400, |p| p.min(86_400)),
        )),
    };
    let name = match &args.name {
        Some(n) => n.clone(),
        None => args::default_name(&cookies).to_owned(),
    };
    let builder = SessionBuilder::new(keys)
        .cookie_name(name.clone())
        .max_cookies(args.max_cookies)
        .absolute_timeout(Duration::from_secs(args.absolute_secs.unwrap_or(604_800)))
        .clock(move || at);
    let builder = match idle {
        Some(idle) => builder.idle_timeout(idle),
        None => builder.no_idle_timeout(),
    };
    let engine = builder.build().map_err(|e| e.to_string())?;
    let headers = args::cookie_headers(&name, &cookies);
    let report = engine.inspect(headers.iter().map(|h| h.as_bytes()));
    let view = output::View {
        name: &name,
        max_cookies: args.max_cookies,
        with_keys,
        epoch: args.epoch_secs.is_some(),
        report: &report,
    };
    let text = if args.json {
        output::inspect_json(&view)
    } else {
        output::inspect_text(&view)
    };
    write_out(&text)?;
    Ok(if success(&report, with_keys) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Opened with keys; without keys, every value's header parsed and nothing failed before
/// the key lookup.
fn success(report: &Inspection, with_keys: bool) -> bool {
    match report.outcome {
        LoadOutcome::Opened { .. } => true,
        LoadOutcome::Rejected(Rejection::UnknownKey) if !with_keys => {
            report.candidates.iter().all(|c| c.header.is_ok())
        }
        _ => false,
    }
}

fn write_out(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `inspect` on any cookie text, with and without keys, never panics: it reports a
        /// rejection or an error.
        #[test]
        fn inspect_never_panics(cookies in proptest::collection::vec(".{0,300}", 1..4), keys in proptest::bool::ANY) {
            let mut argv = vec!["inspect".to_owned(), "--json".to_owned(), "--now".to_owned(), "1800000000".to_owned()];
            if keys {
                argv.push("--keys".to_owned());
                argv.push(Secret::from_bytes(&[7; 32]).map(|s| s.to_base64()).unwrap_or_default());
            }
            argv.push("--".to_owned());
            argv.extend(cookies.into_iter().filter(|c| c != "-"));
            if let Ok(args) = args::parse(&argv) {
                let _ = inspect(&args);
            }
        }
    }
}
