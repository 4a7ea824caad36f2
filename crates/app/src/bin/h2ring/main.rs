//! The `h2ring` binary: parse flags, start one executor per core, stop on
//! SIGINT/SIGTERM (reload TLS certificates on SIGHUP, reopen the access log on SIGUSR1)
//! and print one summary line. Any startup mistake prints one `h2ring: error: ...` line
//! and exits with status 1; a core whose executor died stops the server and the process
//! exits with status 70.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use h2ring::{Protocols, ServerHandle};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cli::{clap_error_line, log_filter, Cli};

// The binary's choice, not the library's: a request allocates a handful of
// short-lived blocks on one thread and frees them there, which mimalloc's
// per-thread free lists serve faster than glibc's malloc (+8% small-GET
// throughput on one core; docs/perf-log.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Names the throwaway certificate of `--self-signed` is made for.
const SELF_SIGNED_NAMES: &str = "localhost, 127.0.0.1, ::1";

fn fail(message: &str) -> ExitCode {
    eprintln!("h2ring: error: {message}");
    ExitCode::FAILURE
}

/// Logs to stderr, filtered by `--log`, else RUST_LOG, else `warn` ([`log_filter`]).
/// Colour only on a terminal, and not when NO_COLOR is set (no-color.org): escape codes
/// in a journal or a log file are noise.
fn init_logging(flag: Option<&str>) -> Result<(), String> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, source) = log_filter(flag, rust_log.as_deref());
    let env_filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .map_err(|e| format!("invalid {source} '{filter}': {e}"))?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = std::io::stderr().is_terminal() && !no_color;
    tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))
}

/// Reloads the TLS certificates on every SIGHUP and says how it went on stderr (a failed
/// reload keeps the old certificates).
fn reload_on_sighup(handle: ServerHandle) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGHUP])?;
    std::thread::Builder::new()
        .name("h2ring-reload".to_string())
        .spawn(move || {
            for _ in signals.forever() {
                match handle.reload_tls() {
                    Ok(_) => eprintln!("h2ring: reloaded TLS certificates"),
                    Err(e) => {
                        eprintln!("h2ring: TLS reload failed, keeping the old certificates: {e}")
                    }
                }
            }
        })?;
    Ok(())
}

/// Starts a graceful shutdown on the first SIGTERM or SIGINT from the moment it is called,
/// before `run_until_signal` installs the library's own handler: a supervisor may signal
/// as soon as it reads the listening line, and without a handler by then the default
/// action would kill the process with no drain. Later signals are the library's (a second
/// one cuts the drain short); the shutdown this may repeat is idempotent.
fn drain_on_first_signal(handle: ServerHandle) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("h2ring-early-signal".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // The library's handler logs the same when it saw the signal first.
                if !handle.is_shutting_down() {
                    tracing::info!(signal, "shutting down gracefully");
                    handle.shutdown();
                }
            }
        })?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help / --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&clap_error_line(&e)),
    };
    let settings = match cli.into_settings() {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    if let Err(e) = init_logging(settings.log.as_deref()) {
        return fail(&e);
    }
    let mut builder = settings.server;
    let tls = settings.tls.is_some();
    if let Some(tls) = settings.tls {
        if tls.is_self_signed() {
            println!(
                "h2ring: generated a throwaway self-signed certificate for {SELF_SIGNED_NAMES} (local trials only)"
            );
        }
        builder = builder.tls(tls);
    }
    let server = match builder.build() {
        Ok(server) => server,
        Err(e) => return fail(&e.to_string()),
    };
    let protocols = server.config().protocols;
    let proxy_protocol = server.config().listen.iter().any(|l| l.proxy_protocol);
    let files = settings.files;
    let what = match files.root() {
        Some(root) => format!("files from {}", root.display()),
        None => "the built-in page".to_string(),
    };
    let running = match server.start(move |_core| files.clone().into_service()) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let addrs: Vec<String> = running
        .local_addrs()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let scheme = match (tls, protocols) {
        (true, _) => "https (h2, http/1.1)",
        (false, p) if p == Protocols::H2C => "cleartext h2c only",
        (false, p) if p == Protocols::HTTP1 => "cleartext http/1.1 only",
        (false, _) => "cleartext h2c and http/1.1",
    };
    let scheme = match proxy_protocol {
        true => format!("{scheme}, after a PROXY protocol header"),
        false => scheme.to_string(),
    };
    if let Err(e) = drain_on_first_signal(running.handle()) {
        running.handle().shutdown();
        running.join();
        return fail(&format!("cannot install SIGTERM/SIGINT handlers: {e}"));
    }
    let cores: Vec<String> = running.cores().iter().map(|c| c.to_string()).collect();
    println!(
        "h2ring: listening on {} ({scheme}) on cores {}, serving {what}",
        addrs.join(", "),
        cores.join(",")
    );
    if let Some(admin) = running.admin_addr() {
        println!("h2ring: admin endpoint on http://{admin} (/metrics, /healthz, /readyz)");
    }
    if tls {
        if let Err(e) = reload_on_sighup(running.handle()) {
            running.handle().shutdown();
            running.join();
            return fail(&format!("cannot install SIGHUP handler: {e}"));
        }
    }
    match running.run_until_signal() {
        // A core whose executor died stopped the server: exit so a supervisor restarts us
        // (70, EX_SOFTWARE: an internal error).
        Ok(summary) if !summary.failed_cores.is_empty() => {
            println!("{summary}");
            ExitCode::from(70)
        }
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}
