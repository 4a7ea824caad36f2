//! `h2ring-loadtest` binary: parse flags, run, print the report (and the histogram file).

use std::process::ExitCode;

use clap::Parser;
use h2ring_loadtest::cli::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match args.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("h2ring-loadtest: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match h2ring_loadtest::run(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("h2ring-loadtest: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.render());
    println!("{}", report.summary_line());
    if let Some(path) = &args.hist_file {
        if let Err(e) = std::fs::write(path, report.percentile_distribution()) {
            eprintln!("h2ring-loadtest: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
