//! Hand-rolled argument parsing: three subcommands and a handful of options do not need a
//! parser crate.

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Help,
    Keygen,
    KeyIds,
    Inspect,
}

/// The parsed command line.
#[derive(Debug)]
pub struct Args {
    pub command: Command,
    pub keys: Option<String>,
    pub epoch_secs: Option<u64>,
    pub name: String,
    pub max_cookies: usize,
    pub idle_secs: Option<u64>,
    pub absolute_secs: Option<u64>,
    pub now: Option<u64>,
    pub json: bool,
    pub cookies: Vec<String>,
}

fn number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{option} takes a whole number, not {value:?}"))
}

/// Parses `argv` (without the program name).
pub fn parse(argv: &[String]) -> Result<Args, String> {
    let mut it = argv.iter();
    let command = match it.next().map(String::as_str) {
        None | Some("help" | "--help" | "-h") => Command::Help,
        Some("keygen") => Command::Keygen,
        Some("key-ids") => Command::KeyIds,
        Some("inspect") => Command::Inspect,
        Some(other) => {
            return Err(format!(
                "unknown command {other:?}: use keygen, key-ids or inspect"
            ))
        }
    };
    let mut args = Args {
        command,
        keys: None,
        epoch_secs: None,
        name: "session".into(),
        max_cookies: 1,
        idle_secs: None,
        absolute_secs: None,
        now: None,
        json: false,
        cookies: Vec::new(),
    };
    let mut only_cookies = false;
    while let Some(arg) = it.next() {
        if only_cookies || !arg.starts_with("--") {
            if command != Command::Inspect {
                return Err(format!("unexpected argument {arg:?}"));
            }
            args.cookies.push(arg.clone());
            continue;
        }
        let (option, inline) = match arg.split_once('=') {
            Some((o, v)) => (o, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{option} needs a value"))
        };
        match option {
            "--" => only_cookies = true,
            "--help" => args.command = Command::Help,
            "--json" => args.json = true,
            "--keys" => args.keys = Some(value()?),
            "--epoch-secs" => args.epoch_secs = Some(number(option, &value()?)?),
            "--name" => args.name = value()?,
            "--max-cookies" => args.max_cookies = number(option, &value()?)?,
            "--idle-secs" => args.idle_secs = Some(number(option, &value()?)?),
            "--absolute-secs" => args.absolute_secs = Some(number(option, &value()?)?),
            "--now" => args.now = Some(number(option, &value()?)?),
            _ => return Err(format!("unknown option {option:?}")),
        }
    }
    Ok(args)
}

/// Turns the command line's cookies into `Cookie` header values: headers and `name=value`
/// lists pass through (without a `Cookie:` or `Set-Cookie:` prefix); bare values become the
/// session's chunks in order (`name`, `name.1`, ...).
pub fn cookie_headers(name: &str, cookies: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut bare = 0usize;
    for c in cookies {
        let c = c.trim();
        let lower = c.to_ascii_lowercase();
        let c = if lower.starts_with("cookie:") {
            &c["cookie:".len()..]
        } else if lower.starts_with("set-cookie:") {
            &c["set-cookie:".len()..]
        } else {
            c
        };
        if c.contains('=') {
            out.push(c.trim().to_owned());
        } else {
            let chunk = match bare {
                0 => name.to_owned(),
                i => format!("{name}.{i}"),
            };
            bare += 1;
            out.push(format!("{chunk}={c}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_and_cookies() {
        let a = parse(&argv(
            "inspect --keys=k --name sid --max-cookies 3 --json a=b AQ",
        ))
        .unwrap();
        assert_eq!(a.command, Command::Inspect);
        assert_eq!(a.keys.as_deref(), Some("k"));
        assert_eq!((a.name.as_str(), a.max_cookies, a.json), ("sid", 3, true));
        assert_eq!(a.cookies, ["a=b", "AQ"]);
        assert!(parse(&argv("inspect --max-cookies x")).is_err());
        assert!(parse(&argv("inspect --keys")).is_err());
        assert!(parse(&argv("keygen extra")).is_err());
        assert!(parse(&argv("frobnicate")).is_err());
        assert_eq!(parse(&[]).unwrap().command, Command::Help);
    }

    #[test]
    fn cookie_forms() {
        let c =
            |v: &[&str]| cookie_headers("s", &v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(c(&["Cookie: a=1; s=x"]), ["a=1; s=x"]);
        assert_eq!(c(&["set-cookie: s=x; Path=/"]), ["s=x; Path=/"]);
        assert_eq!(c(&["2.abc", "def"]), ["s=2.abc", "s.1=def"]);
    }
}
