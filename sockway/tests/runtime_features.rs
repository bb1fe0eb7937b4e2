//! With several runtime features on, the top-level names that depend on the
//! runtime fail to compile where they are used, with a message that says
//! which paths to write; the runtimes' own paths keep working.
//!
//! Each case is a small crate written under the target directory with a
//! path dependency on this facade, checked offline by `cargo check` (the
//! workspace's `Cargo.lock` keeps the versions it already has), and the
//! compiler's output is read.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest one `cargo check` may take (the first builds the runtimes'
/// dependencies).
const CHECK_LIMIT: Duration = Duration::from_secs(900);

/// What `cargo check` said.
struct Checked {
    success: bool,
    stderr: String,
}

/// Writes a crate named `name` that depends on the facade with `features`
/// (and its default features unless `no_default`), with `main` as its
/// `src/main.rs`, and checks it.
fn check(name: &str, no_default: bool, features: &[&str], main: &str) -> Checked {
    let facade = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtime-features");
    let dir = root.join(name);
    fs::create_dir_all(dir.join("src")).unwrap();
    let features = features
        .iter()
        .map(|f| format!("{f:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let manifest = format!(
        "[package]\nname = \"runtime-features-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[workspace]\n\n[dependencies]\n\
         sockway = {{ path = {path:?}, default-features = {default}, features = [{features}] }}\n",
        path = facade.display().to_string(),
        default = !no_default,
    );
    fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    fs::write(dir.join("src/main.rs"), main).unwrap();
    // The versions the workspace builds with, so that nothing is fetched.
    fs::copy(facade.join("../Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let stderr_path = dir.join("stderr.txt");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["check", "--offline", "--color", "never", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        // One target directory for every case: the runtimes' dependencies
        // are built once.
        .env("CARGO_TARGET_DIR", root.join("target"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    // A process's time limit, on the wall clock.
    #[allow(clippy::disallowed_methods)]
    let deadline = Instant::now() + CHECK_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        #[allow(clippy::disallowed_methods)]
        let late = Instant::now() > deadline;
        if late {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("cargo check of {name} took over {CHECK_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Checked {
        success: status.success(),
        stderr: fs::read_to_string(stderr_path).unwrap(),
    }
}

/// The lines of `main` that end with `// use`.
fn marked_lines(main: &str) -> Vec<usize> {
    main.lines()
        .enumerate()
        .filter(|(_, line)| line.trim_end().ends_with("// use"))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The errors of `stderr` as (first line, location line) pairs.
fn errors(stderr: &str) -> Vec<(String, Option<usize>)> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with("error[") || line.starts_with("error:"))
        .filter(|(_, line)| !line.starts_with("error: could not compile"))
        .map(|(i, line)| {
            let at = lines.get(i + 1).and_then(|next| {
                let rest = next.trim_start().strip_prefix("--> src/main.rs:")?;
                rest.split(':').next()?.parse().ok()
            });
            ((*line).to_owned(), at)
        })
        .collect()
}

/// Every runtime-dependent item of the top-level API, one use per marked
/// line.
const AMBIGUOUS_USES: &str = r#"use sockway::server::{Server, ServerBuilder};

async fn uses() -> Result<(), Box<dyn std::error::Error>> {
    let _builder = Server::builder(); // use
    let (_ws, _) = sockway::connect_url("ws://127.0.0.1:9/").await?; // use
    let _ws = sockway::connect_url_with("ws://127.0.0.1:9/", sockway::ConnectOptions::default()).await?; // use
    let _session = sockway::sockjs::connect("http://127.0.0.1:9/echo").await?; // use
    let _session = sockway::sockjs::connect_with("http://127.0.0.1:9/echo", Default::default()).await?; // use
    Ok(())
}

fn keep(_: sockway::WebSocketStream<std::net::TcpStream>) {} // use
fn keep_tls(_: sockway::MaybeTlsStream) {} // use
fn keep_builder(_: ServerBuilder) {} // use

async fn accepted(tcp: std::net::TcpStream) {
    let _ws = sockway::accept(tcp).await; // use
}

async fn connected(tcp: std::net::TcpStream, request: sockway::ClientRequest) {
    let _ws = sockway::connect(tcp, request).await; // use
}

fn main() {
    drop((uses(), accepted, connected, keep, keep_tls, keep_builder));
}
"#;

#[test]
fn the_default_runtime_and_async_std_make_each_top_level_use_an_error_that_says_what_to_write() {
    let checked = check(
        "tokio-async-std-uses",
        false,
        &["async-std"],
        AMBIGUOUS_USES,
    );
    assert!(!checked.success, "{}", checked.stderr);
    let message = "error[E0277]: sockway's top-level API names no runtime: the features `tokio` and `async-std` are both on";
    let errors = errors(&checked.stderr);
    // Nothing but the message: no error that follows from the first.
    for (error, _) in &errors {
        assert_eq!(error, message, "{}", checked.stderr);
    }
    let at: Vec<usize> = errors.iter().filter_map(|(_, at)| *at).collect();
    for line in marked_lines(AMBIGUOUS_USES) {
        assert!(
            at.contains(&line),
            "no error at line {line}:\n{}",
            checked.stderr
        );
    }
    for what in [
        "write the runtime's path: `sockway::tokio::…` or `sockway::async_std::…`",
        "default-features = false, features = [\"async-std\"]",
        "this top-level name depends on the runtime, and several are on",
    ] {
        assert!(checked.stderr.contains(what), "{what}:\n{}", checked.stderr);
    }
}

#[test]
fn with_several_runtimes_the_runtime_paths_and_what_is_common_compile() {
    let main = r#"use sockway::server::{Session, SockJsEndpoint};

async fn echo(_session: Session) {}

async fn uses() -> Result<(), Box<dyn std::error::Error>> {
    let server = sockway::tokio::server::Server::builder()
        .sockjs("/echo", SockJsEndpoint::new(echo))
        .bind("127.0.0.1:0")
        .await?;
    drop(server.handle());
    let (ws, _): (
        sockway::async_std::WebSocketStream<sockway::async_std::MaybeTlsStream>,
        sockway::Response,
    ) = sockway::async_std::connect_url("ws://127.0.0.1:9/").await?;
    drop(ws);
    let session = sockway::tokio::sockjs::connect("http://127.0.0.1:9/echo").await?;
    drop(session);
    let _builder: sockway::async_std::server::ServerBuilder = sockway::async_std::server::Server::builder();
    let _message = sockway::Message::from("hello");
    Ok(())
}

fn main() {
    drop(uses());
}
"#;
    let checked = check("tokio-async-std-paths", false, &["async-std"], main);
    assert!(checked.success, "{}", checked.stderr);
}

#[test]
fn the_message_names_the_runtime_features_that_are_on() {
    let main = "fn main() {\n    drop(sockway::server::Server::builder()); // use\n}\n";
    for (name, no_default, features, on, paths) in [
        (
            "tokio-smol",
            false,
            &["smol"][..],
            "the features `tokio` and `smol` are both on",
            "`sockway::tokio::…` or `sockway::smol::…`",
        ),
        (
            "async-std-smol",
            true,
            &["async-std", "smol"][..],
            "the features `async-std` and `smol` are both on",
            "`sockway::async_std::…` or `sockway::smol::…`",
        ),
        (
            "all-three",
            false,
            &["async-std", "smol"][..],
            "the features `tokio`, `async-std` and `smol` are all on",
            "`sockway::tokio::…`, `sockway::async_std::…` or `sockway::smol::…`",
        ),
    ] {
        let checked = check(name, no_default, features, main);
        assert!(!checked.success, "{name}: {}", checked.stderr);
        let errors = errors(&checked.stderr);
        assert!(!errors.is_empty(), "{name}: {}", checked.stderr);
        for (error, at) in &errors {
            assert_eq!(
                error,
                &format!("error[E0277]: sockway's top-level API names no runtime: {on}"),
                "{name}: {}",
                checked.stderr
            );
            assert_eq!(*at, Some(2), "{name}: {}", checked.stderr);
        }
        assert!(checked.stderr.contains(paths), "{name}: {}", checked.stderr);
    }
}

#[test]
fn one_runtime_feature_is_the_top_level_api() {
    let main = r#"async fn uses() -> Result<(), Box<dyn std::error::Error>> {
    let server = sockway::server::Server::builder().bind("127.0.0.1:0").await?;
    drop(server);
    let (ws, _): (sockway::WebSocketStream<sockway::MaybeTlsStream>, sockway::Response) =
        sockway::connect_url("ws://127.0.0.1:9/").await?;
    drop(ws);
    Ok(())
}

fn main() {
    drop(uses());
}
"#;
    let checked = check("async-std-alone", true, &["async-std"], main);
    assert!(checked.success, "{}", checked.stderr);
}

/// The helpers read what they should: a crate with one error at a marked
/// line gives that error at that line.
#[test]
fn errors_are_read_with_their_lines() {
    let stderr = "warning: unused\n\
                  error[E0277]: the message\n  --> src/main.rs:4:18\n   |\n\
                  error: could not compile `x` (bin \"x\") due to 1 previous error\n";
    assert_eq!(
        errors(stderr),
        vec![("error[E0277]: the message".to_owned(), Some(4))]
    );
    assert_eq!(marked_lines("a\nb // use\nc\nd // use  \n"), vec![2, 4]);
}
