//! `openclaw-probe`: see the crate README or `openclaw-probe --help`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use openclaw_probe::probe::TokenSource;
use openclaw_probe::{
    parse_duration, AuthConfig, Config, ExitMode, GatewayConfig, HttpTarget, Threshold, TlsTarget,
    EXIT_UNKNOWN,
};

const AFTER_HELP: &str = "\
Exit codes (worst check wins):
  0  OK        every check passed (skipped checks do not count)
  1  WARNING   gateway starting (/readyz not 200, WebSocket close 1013), certificate past
               --cert-warn, secret file older than --max-secret-age
  2  CRITICAL  gateway down (refused / no answer), auth not enforced, configured token
               rejected, certificate past --cert-crit / expired / untrusted, secret file
               missing or empty, token file unreadable
  3  UNKNOWN   bad command line (nothing was probed), or --textfile not written

  systemd   non-zero fails the unit (the rendered probe.service sets SuccessExitStatus=1 2:
            unhealthy is a metric there, not a unit failure)
  Consul    0 passing, 1 warning, anything else critical (same for Nomad script checks)
  Podman    HealthCmd: any non-zero is unhealthy
  Docker    HEALTHCHECK reserves 2: pass --docker-exit-codes (0 healthy, 1 unhealthy)

The token is read from --token-file only (argv is world-readable in /proc) and is never
printed or logged; server answers are redacted before output.";

/// Checks a running OpenClaw gateway the way a client meets it: liveness (/healthz),
/// readiness (/readyz), auth enforced on POST /tools/invoke and the WebSocket `connect`
/// (no token and a wrong token rejected, the configured token accepted); the TLS certificate
/// a reverse proxy serves and a certificate file (days left); the age of rendered secrets.
#[derive(Debug, Parser)]
#[command(name = "openclaw-probe", version, after_help = AFTER_HELP)]
struct Cli {
    /// Gateway base URL (plain HTTP, as the gateway listens).
    // Parsed after clap (not by it): clap would echo a rejected value, credentials included.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:18789")]
    url: String,
    /// Do not probe the gateway (certificate / secret checks only).
    #[arg(long, conflicts_with_all = ["token_file", "no_auth", "no_wrong_token"])]
    no_gateway: bool,
    /// File holding the gateway token (whitespace around it is trimmed).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Skip the auth checks (liveness and readiness only).
    #[arg(long)]
    no_auth: bool,
    /// Readiness from /startupz (startup finished) instead of /readyz (which also waits for
    /// the channels' deep checks): the deploy health gate's question.
    #[arg(long)]
    startup: bool,
    /// Do not present a wrong token. OpenClaw answers every failed auth late on purpose
    /// (loopback: 250 ms doubling to 5 s within a minute, reset by a success) and counts it
    /// against gateway.auth.rateLimit (off loopback: 10 a minute, then the client IP is
    /// locked out for 5 minutes, right token included). Use for frequent healthchecks, or
    /// when probing from another address without --token-file.
    #[arg(long)]
    no_wrong_token: bool,
    /// Bound of each network exchange; a dead port fails at once, a silent one after this.
    /// Exchanges presenting a token get 5 s more (the gateway's failed-auth delay).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    timeout: Duration,
    /// Check the certificate served at this https:// URL (the reverse proxy).
    #[arg(long, value_name = "URL")]
    tls_url: Option<String>,
    /// PEM CA bundle to verify --tls-url against (a private CA such as step-ca's root);
    /// default: SSL_CERT_FILE or the system bundle.
    #[arg(long, value_name = "PATH", requires = "tls_url")]
    ca_file: Option<PathBuf>,
    /// Check a certificate file (PEM or DER; first certificate), e.g. the step-ca machine
    /// certificate.
    #[arg(long, value_name = "PATH")]
    cert_file: Option<PathBuf>,
    /// Warn when less than this is left: a duration (14d, 8h) or a share of the
    /// certificate's lifetime (33% = renewal at 2/3 is overdue).
    #[arg(long, value_name = "DUR|PCT", default_value = "33%")]
    cert_warn: Threshold,
    /// Critical when less than this is left (duration or share of lifetime).
    #[arg(long, value_name = "DUR|PCT", default_value = "10%")]
    cert_crit: Threshold,
    /// A rendered secret file whose age (mtime) to report; repeatable. Never opened.
    #[arg(long = "secret-file", value_name = "PATH")]
    secret_files: Vec<PathBuf>,
    /// Warn when a --secret-file is older than this.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    max_secret_age: Option<Duration>,
    /// The egress proxy's access log: report how many egress attempts it refused.
    #[arg(long, value_name = "PATH")]
    egress_proxy_log: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, conflicts_with = "prometheus")]
    json: bool,
    /// Print Prometheus exposition text instead of text.
    #[arg(long)]
    prometheus: bool,
    /// Also write Prometheus text to this file atomically (node_exporter textfile collector;
    /// name it *.prom).
    #[arg(long, value_name = "PATH")]
    textfile: Option<PathBuf>,
    /// Print nothing on stdout (the exit code and --textfile still report).
    #[arg(short, long, conflicts_with_all = ["json", "prometheus"])]
    quiet: bool,
    /// Exit 1 instead of 2 for critical (Docker HEALTHCHECK reserves 2).
    #[arg(long)]
    docker_exit_codes: bool,
    /// Debug logging on stderr (OPENCLAW_PROBE_LOG=<filter> for finer control).
    #[arg(short, long)]
    verbose: bool,
}

fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let base = std::env::var("OPENCLAW_PROBE_LOG")
        .unwrap_or_else(|_| if verbose { "debug" } else { "warn" }.to_string());
    // Dependencies never log here: rustls/tungstenite frame dumps could hold the token.
    let filter = EnvFilter::try_new(format!("{base},rustls=off,tungstenite=off"))
        .unwrap_or_else(|_| EnvFilter::new("warn,rustls=off,tungstenite=off"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .finish();
    // set_global_default, not init(): init() would also bridge the `log` crate, which
    // rustls/tungstenite use; without a bridge their records go nowhere.
    let _ = tracing::subscriber::set_global_default(sub);
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { EXIT_UNKNOWN } else { 0 });
        }
    };
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("openclaw-probe: {e:#}");
            std::process::exit(EXIT_UNKNOWN);
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let target: HttpTarget = cli.url.parse()?;
    let tls: Option<TlsTarget> = cli.tls_url.as_deref().map(str::parse).transpose()?;
    let cfg = Config {
        gateway: (!cli.no_gateway).then(|| GatewayConfig {
            target,
            auth: AuthConfig {
                enabled: !cli.no_auth,
                wrong_token: !cli.no_wrong_token,
                token: cli.token_file.clone().map(TokenSource::File),
            },
            startup: cli.startup,
        }),
        tls,
        ca_file: cli.ca_file.clone(),
        cert_file: cli.cert_file.clone(),
        cert_warn: cli.cert_warn,
        cert_crit: cli.cert_crit,
        secret_files: cli.secret_files.clone(),
        max_secret_age: cli.max_secret_age,
        timeout: cli.timeout,
    };
    if cfg.gateway.is_none()
        && cfg.tls.is_none()
        && cfg.cert_file.is_none()
        && cfg.secret_files.is_empty()
    {
        anyhow::bail!(
            "--no-gateway and nothing else to check (add --tls-url, --cert-file or --secret-file)"
        );
    }
    tracing::debug!(gateway = ?cfg.gateway.as_ref().map(|g| g.target.url()), "probing");
    let mut report = openclaw_probe::run(&cfg);
    if let Some(log) = &cli.egress_proxy_log {
        report.egress = Some(
            openclaw_probe::egress_log::EgressCounts::read(log)
                .with_context(|| format!("reading the egress proxy's log {}", log.display()))?,
        );
    }
    report.set_exit_mode(if cli.docker_exit_codes {
        ExitMode::Docker
    } else {
        ExitMode::Standard
    });
    let prom = (cli.prometheus || cli.textfile.is_some()).then(|| report.prometheus());
    let mut code = report.exit_code;
    if let (Some(path), Some(text)) = (&cli.textfile, &prom) {
        if let Err(e) = openclaw_probe::write_atomic(path, text) {
            // The checks ran, but their record did not land: that is the probe failing.
            eprintln!("openclaw-probe: {e}");
            code = code.max(EXIT_UNKNOWN);
        }
    }
    let out = if cli.quiet {
        String::new()
    } else if cli.json {
        report.json()
    } else if cli.prometheus {
        prom.unwrap_or_default()
    } else {
        report.text()
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    Ok(code)
}
