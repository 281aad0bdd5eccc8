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
    pub name: Option<String>,
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
        name: None,
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
            "--name" => args.name = Some(value()?),
            "--max-cookies" => args.max_cookies = number(option, &value()?)?,
            "--idle-secs" => args.idle_secs = Some(number(option, &value()?)?),
            "--absolute-secs" => args.absolute_secs = Some(number(option, &value()?)?),
            "--now" => args.now = Some(number(option, &value()?)?),
            _ => return Err(format!("unknown option {option:?}")),
        }
    }
    Ok(args)
}

/// Strips a `Cookie:` or `Set-Cookie:` prefix. Works on bytes, so a line pasted from a log
/// with any characters in it never splits inside a character.
fn strip_prefix(c: &str) -> &str {
    let c = c.trim();
    for prefix in ["cookie:", "set-cookie:"] {
        let head = c.as_bytes().get(..prefix.len());
        if head.is_some_and(|h| h.eq_ignore_ascii_case(prefix.as_bytes())) {
            // The prefix is ASCII, so the rest starts on a character boundary.
            return c.get(prefix.len()..).unwrap_or_default().trim();
        }
    }
    c
}

/// The cookie name to read when `--name` is not given: the library's default,
/// `__Host-session`, unless the input carries only cookies named `session` (or its chunks),
/// as the example server sets them.
pub fn default_name(cookies: &[String]) -> &'static str {
    let names: Vec<&str> = cookies
        .iter()
        .flat_map(|c| strip_prefix(c).split(';'))
        .filter_map(|pair| Some(pair.split_once('=')?.0.trim()))
        .map(|n| n.split_once('.').map_or(n, |(base, _)| base))
        .collect();
    if !names.contains(&"__Host-session") && names.contains(&"session") {
        "session"
    } else {
        "__Host-session"
    }
}

/// Turns the command line's cookies into `Cookie` header values: headers and `name=value`
/// lists pass through (without a `Cookie:` or `Set-Cookie:` prefix); bare values become the
/// session's chunks in order (`name`, `name.1`, ...).
pub fn cookie_headers(name: &str, cookies: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut bare = 0usize;
    for c in cookies {
        let c = strip_prefix(c);
        if c.contains('=') {
            out.push(c.to_owned());
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
        assert_eq!(
            (a.name.as_deref(), a.max_cookies, a.json),
            (Some("sid"), 3, true)
        );
        assert_eq!(a.cookies, ["a=b", "AQ"]);
        assert!(parse(&argv("inspect --max-cookies x")).is_err());
        assert!(parse(&argv("inspect --keys")).is_err());
        assert!(parse(&argv("keygen extra")).is_err());
        assert!(parse(&argv("frobnicate")).is_err());
        assert_eq!(parse(&[]).unwrap().command, Command::Help);
    }

    #[test]
    fn lines_from_a_hostile_log_never_panic() {
        for line in [
            "é",
            "Cookié: a=b",
            "Set-Cookie\u{e9}: x",
            "cookie:\u{1F36A}=\u{1F36A}",
            "\u{1F36A}\u{1F36A}\u{1F36A}\u{1F36A}",
            "set-cookie:",
            "Cookie: session=AQ\u{e9}; session.1=\u{ff}",
        ] {
            let cookies = vec![line.to_owned()];
            let name = default_name(&cookies);
            let _ = cookie_headers(name, &cookies);
            let _ = parse(&["inspect".to_owned(), line.to_owned()]);
        }
        assert_eq!(strip_prefix("COOKIE: a=b"), "a=b");
        assert_eq!(strip_prefix("Cookié: a=b"), "Cookié: a=b");
    }

    proptest::proptest! {
        #[test]
        fn any_argument_parses_or_fails_without_a_panic(args in proptest::collection::vec(".*", 0..6)) {
            let _ = parse(&args);
            let name = default_name(&args);
            let _ = cookie_headers(name, &args);
        }
    }

    #[test]
    fn cookie_forms() {
        let c =
            |v: &[&str]| cookie_headers("s", &v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(c(&["Cookie: a=1; s=x"]), ["a=1; s=x"]);
        assert_eq!(c(&["set-cookie: s=x; Path=/"]), ["s=x; Path=/"]);
        assert_eq!(c(&["2.abc", "def"]), ["s=2.abc", "s.1=def"]);
        let names = |v: &[&str]| default_name(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(names(&["Cookie: a=1; session=x"]), "session");
        assert_eq!(names(&["session.1=y", "x"]), "session");
        assert_eq!(names(&["session=x; __Host-session=y"]), "__Host-session");
        assert_eq!(names(&["AQEA"]), "__Host-session");
    }
}
