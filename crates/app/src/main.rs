//! The `h2ring` binary: parse flags, start one executor per core, stop on
//! SIGINT/SIGTERM and print one summary line. Any startup mistake prints one
//! `h2ring: error: ...` line and exits with status 1.

use std::process::ExitCode;

use clap::Parser;
use h2ring::cli::{clap_error_line, Cli};
use h2ring::error::format_core_list;

// The binary's choice, not the library's: a request allocates a handful of
// short-lived blocks on one thread and frees them there, which mimalloc's
// per-thread free lists serve faster than glibc's malloc (+8% small-GET
// throughput on one core; docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fail(message: &str) -> ExitCode {
    eprintln!("h2ring: error: {message}");
    ExitCode::FAILURE
}

fn init_logging(filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("invalid --log '{filter}': {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))
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
    if let Err(e) = init_logging(&settings.log) {
        return fail(&e);
    }
    let tls = match &settings.tls {
        Some(options) => match h2ring::tls::TlsAcceptor::new(options.clone()) {
            Ok(acceptor) => Some(acceptor),
            Err(e) => return fail(&e.to_string()),
        },
        None => None,
    };
    if tls
        .as_ref()
        .is_some_and(|t| t.options().source == h2ring::tls::CertSource::SelfSigned)
    {
        println!(
            "h2ring: generated a throwaway self-signed certificate for {} (local trials only)",
            h2ring::tls::SELF_SIGNED_NAMES.join(", ")
        );
    }
    let files = settings.files.clone();
    let upload_sink = settings.upload_sink.clone();
    let core_tls = tls.clone();
    let factory = move |core: &h2ring::CoreContext| {
        h2ring::serve::connection_fn(
            core,
            h2ring::files_service::files_service_with_upload_sink(
                files.clone(),
                upload_sink.clone(),
            ),
            core_tls.as_ref(),
        )
    };
    let running = match settings.server.start(factory) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let addrs: Vec<String> = running
        .local_addrs()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let what = match settings.files.root() {
        Some(root) => format!("files from {}", root.display()),
        None => "the built-in page".to_string(),
    };
    let scheme = if tls.is_some() {
        "https (h2, http/1.1)"
    } else {
        "cleartext h2c and http/1.1"
    };
    println!(
        "h2ring: listening on {} ({scheme}) on cores {}, serving {what}",
        addrs.join(", "),
        format_core_list(running.cores())
    );
    if let Err(e) = h2ring::signals::install(running.handle()) {
        running.handle().shutdown();
        running.join();
        return fail(&format!("cannot install signal handlers: {e}"));
    }
    if let Some(acceptor) = tls {
        if let Err(e) = h2ring::tls::reload_on_sighup(acceptor) {
            running.handle().shutdown();
            running.join();
            return fail(&format!("cannot install SIGHUP handler: {e}"));
        }
    }
    println!("{}", running.join());
    ExitCode::SUCCESS
}
