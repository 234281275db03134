//! `up`, `down` and `status`: the whole lab, bottom-up.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use openclaw_render::spec::{Runtime, Spec};
use serde_json::{json, Map, Value};

use crate::cmd::{output_within, wait_for};
use crate::container_host::{self, GatewayMode};
use crate::pki::Pki;
use crate::state::{self, mkdir, netns_command, spawn, write_file, Spawn};
use crate::topology::{
    Host, GATEWAY, INTERNET_CANARY, LAN_CANARY, LLM, PROVIDERS, PROVIDER_A, ROUTER,
};
use crate::vault::{random_token, Vault};
use crate::{ca, components, gateway, netns, proxy};

/// Canary ports: common service ports plus the gateway's own, over TCP and UDP.
pub const CANARY_TCP: &[u16] = &[22, 53, 80, 443, 8080, 18789];
pub const CANARY_UDP: &[u16] = &[53, 443, 9999];
/// A port on the LLM host the spec does not allow.
pub const LLM_OTHER_PORT: u16 = 8081;
pub const LLM_PORT: u16 = 4000;

pub fn require_root() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the lab creates network namespaces and users: run it as root");
    }
    Ok(())
}

/// The port every provider fixture listens on.
pub const PROVIDER_PORT: u16 = 8080;

/// A provider fixture's files: its key, mode file and tool-results record.
pub fn provider_dir(state: &Path, provider: &Host) -> PathBuf {
    state.join("providers").join(provider.name)
}

/// The mode file of a provider fixture (`up`, a status, `hang`, `slow <ms>`; read per request).
pub fn provider_mode(state: &Path, provider: &Host) -> PathBuf {
    provider_dir(state, provider).join("mode")
}

/// Tells a provider fixture how to answer from its next request on.
pub fn set_provider_mode(state: &Path, provider: &Host, mode: &str) -> Result<()> {
    write_file(&provider_mode(state, provider), mode.as_bytes(), 0o600)
}

/// What the gateway answered the scripted tool calls of the primary provider (the model the
/// hostile suite scripts, reached through LiteLLM) with (JSON lines).
pub fn llm_tool_results(state: &Path) -> PathBuf {
    provider_dir(state, &PRIMARY_PROVIDER).join("tool-results.jsonl")
}

/// The provider LiteLLM asks first (`litellm.primary`'s deployment in examples/lab.toml).
pub const PRIMARY_PROVIDER: Host = PROVIDER_A;

pub fn canary_file(state: &Path, name: &str) -> PathBuf {
    state.join("canary").join(format!("{name}.jsonl"))
}

fn lab_bin(state: &Path) -> String {
    state.join("bin/openclaw-lab").display().to_string()
}

fn start_canary(state: &Path, name: &str, netns: &str, tcp: &[u16], udp: &[u16]) -> Result<()> {
    let join = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let mut argv = vec![lab_bin(state), "serve".into(), "canary".into()];
    if !tcp.is_empty() {
        argv.extend(["--tcp".into(), join(tcp)]);
    }
    if !udp.is_empty() {
        argv.extend(["--udp".into(), join(udp)]);
    }
    argv.extend([
        "--record".into(),
        canary_file(state, name).display().to_string(),
    ]);
    spawn(
        state,
        &Spawn {
            name: &format!("canary-{name}"),
            netns,
            argv,
            env: vec![],
            user: None,
            cwd: None,
        },
    )?;
    Ok(())
}

/// The lab's stand-ins and where each runs: one list, started by [`start_fixture`].
enum Fixture {
    /// A canary recording every hit on these ports.
    Canary {
        name: &'static str,
        tcp: &'static [u16],
        udp: &'static [u16],
    },
    /// A model provider: the LLM fixture with its own key, mode file and tool-results record.
    Provider(Host),
}

fn fixtures() -> Vec<(String, Fixture)> {
    use Fixture::*;
    let mut v = vec![
        (
            LAN_CANARY.netns(),
            Canary {
                name: "lan",
                tcp: CANARY_TCP,
                udp: CANARY_UDP,
            },
        ),
        (
            INTERNET_CANARY.netns(),
            Canary {
                name: "internet",
                tcp: CANARY_TCP,
                udp: CANARY_UDP,
            },
        ),
        (
            ROUTER.to_string(),
            Canary {
                name: "resolver",
                tcp: &[53],
                udp: &[53],
            },
        ),
        (
            LLM.netns(),
            Canary {
                name: "llm-other",
                tcp: &[LLM_OTHER_PORT],
                udp: &[],
            },
        ),
    ];
    v.extend(PROVIDERS.iter().map(|h| (h.netns(), Provider(*h))));
    v
}

fn start_fixture(
    st: &Path,
    spec: &Spec,
    netns: &str,
    f: &Fixture,
    kv: &Map<String, Value>,
) -> Result<()> {
    match f {
        Fixture::Canary { name, tcp, udp } => start_canary(st, name, netns, tcp, udp),
        Fixture::Provider(h) => start_provider(st, spec, h, kv),
    }
}

/// One provider fixture, requiring the key LiteLLM's KV holds for it.
fn start_provider(st: &Path, spec: &Spec, h: &Host, kv: &Map<String, Value>) -> Result<()> {
    let dir = provider_dir(st, h);
    mkdir(&dir, 0o700)?;
    let key = crate::llm_host::provider_key(spec, kv, h.name).with_context(|| {
        format!("litellm.providers: no provider named {} (fix: name the lab's providers after their hosts, as examples/lab.toml does)", h.name)
    })?;
    let key_file = dir.join("api_key");
    write_file(&key_file, key.as_bytes(), 0o600)?;
    set_provider_mode(st, h, "up")?;
    let mut argv = vec![
        lab_bin(st),
        "serve".into(),
        "llm".into(),
        "--listen".into(),
        format!("[::]:{PROVIDER_PORT}"),
        "--name".into(),
        h.name.into(),
        "--key-file".into(),
        key_file.display().to_string(),
        "--mode-file".into(),
        provider_mode(st, h).display().to_string(),
        "--tool-results".into(),
        dir.join("tool-results.jsonl").display().to_string(),
    ];
    for m in &spec.models.models {
        argv.extend(["--model".into(), m.clone()]);
    }
    spawn(
        st,
        &Spawn {
            name: h.name,
            netns: &h.netns(),
            argv,
            env: vec![],
            user: None,
            cwd: None,
        },
    )?;
    Ok(())
}

/// `up`'s steps as a person watches them: `[k/N] what` when a step starts and its seconds
/// when it ends, on stderr (stdout keeps the summary).
struct Progress {
    total: usize,
    n: usize,
    current: Option<(&'static str, Instant)>,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            total,
            n: 0,
            current: None,
        }
    }
    fn step(&mut self, what: &'static str) {
        self.finish();
        self.n += 1;
        eprintln!("[{:>2}/{}] {what}", self.n, self.total);
        self.current = Some((what, Instant::now()));
    }
    fn finish(&mut self) {
        if let Some((what, t)) = self.current.take() {
            eprintln!(
                "[{:>2}/{}] {what}: {:.1} s",
                self.n,
                self.total,
                t.elapsed().as_secs_f64()
            );
        }
    }
}

pub struct Up {
    pub spec: Spec,
    pub state: PathBuf,
    pub seconds: f64,
}

pub fn up(spec_path: &Path, mode: GatewayMode) -> Result<Up> {
    require_root()?;
    let t0 = Instant::now();
    let st = state::state_dir();
    if !netns::existing().is_empty() {
        bail!("the lab is already up (or left over): run `openclaw-lab down` first");
    }
    mkdir(&st, 0o755)?;
    crate::owner::claim(&st)?;
    gateway::install_binaries(&st)?;
    let spec = gateway::effective_spec(spec_path, &st, mode)?;
    write_file(
        &st.join("spec.json"),
        serde_json::to_string_pretty(&spec)?.as_bytes(),
        0o644,
    )?;
    gateway::ensure_user(&spec)?;
    gateway::ensure_proxy_user(&spec)?;
    let mut progress = Progress::new(10);
    progress.step("network: namespaces, bridges");
    netns::create()?;
    mkdir(&st.join("canary"), 0o755)?;

    progress.step("PKI and step-ca (the machine certificate's CA)");
    let pki = Pki::new(st.join("pki"));
    pki.create()?;
    ensure_eq(
        &spec.machine_cert.as_ref().unwrap().root_ca,
        &pki.root_crt(),
        "machine_cert.root_ca",
    )?;
    ca::start(&st, &pki, &components::step_ca()?)?;

    progress.step("OpenBao: server, cert auth, the gateway's and LiteLLM's secrets");
    let bao_spec = spec.secrets.openbao.clone().expect("checked");
    let vault = Vault::new(&st, components::bao()?, &pki);
    vault.start(&st, &pki)?;
    let mut secrets = Map::new();
    for (name, item) in &spec.secrets.items {
        secrets.insert(
            item.kv_key(name).to_string(),
            Value::String(random_token(48.max(item.min_length))?),
        );
    }
    vault.configure(&bao_spec, &secrets, &pki.root_crt())?;
    let llm_kv = crate::llm_host::secrets(&spec, &secrets)?;
    crate::llm_host::configure_vault(&vault, &spec, &llm_kv)?;

    progress.step("stand-ins: canaries, model providers (LLM fixtures), cloud edge");
    for (netns, f) in fixtures() {
        start_fixture(&st, &spec, &netns, &f, &llm_kv)?;
    }
    crate::cloud::start(&st, &pki)?;

    progress.step("llm host: LiteLLM from the render (its OpenBao agent, nftables, unit)");
    let arts = gateway::render_and_install(&spec, &st)?;
    crate::llm_host::prepare(&spec, &st, &pki)?;
    crate::llm_host::load_nftables(&st)?;
    crate::llm_host::start(&spec, &st, &arts)?;

    progress.step("gateway host: nftables, units (OpenBao agent, egress proxy, gateway)");
    gateway::prepare_dirs(&spec)?;
    gateway::provision_machine_cert(&spec, &pki)?;
    gateway::load_nftables(&st)?;
    if spec.runtime == Runtime::Container {
        container_host::write_podman_config(&st)?;
    }
    let units = gateway::write_units(&spec, &st, &arts)?;
    for (name, path) in &units {
        // Oneshots a rendered timer drives (the probe) run on that timer, not supervised.
        if let Some(t) = crate::timer::for_unit(&arts, name, path) {
            crate::timer::start(&st, &spec, &t, path)?;
            continue;
        }
        if *name == spec.gateway_unit() {
            gateway::wait_for_secrets(&spec, Duration::from_secs(60))?;
        }
        start_unit(&st, name, path)?;
        // The container's network first, as its Requires=/After= say.
        if name.ends_with("-network.service") {
            wait_for(Duration::from_secs(60), Duration::from_millis(100), || {
                unit_status(&st, name).filter(|s| s.state == "active")
            })
            .with_context(|| format!("{name} did not become active: see its log"))?;
        }
    }

    progress.step("proxy host: Caddy with forward auth");
    proxy::start(&spec, &st, &pki, &arts)?;
    progress.step("published on this machine's loopback");
    crate::publish::start(&spec, &st, &pki)?;

    progress.step("waiting for LiteLLM's liveliness and the gateway's /readyz");
    crate::llm_host::wait_live(&spec, &st, Duration::from_secs(120))?;
    wait_ready(&spec, Duration::from_secs(180)).with_context(|| {
        format!(
            "see {}",
            state::logfile(&st, &format!("unit-{}", spec.gateway_unit())).display()
        )
    })?;
    progress.finish();
    Ok(Up {
        spec,
        state: st,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn ensure_eq(field_value: &str, want: &Path, field: &str) -> Result<()> {
    if Path::new(field_value) != want {
        bail!(
            "{field} = {field_value}, but the lab's root CA is {} (fix: set it to that path)",
            want.display()
        );
    }
    Ok(())
}

pub fn start_unit(st: &Path, name: &str, path: &Path) -> Result<u32> {
    start_unit_on(st, &GATEWAY.netns(), name, path)
}

/// Starts the lab's supervisor of the unit file `path` on the host of `netns`.
pub fn start_unit_on(st: &Path, netns: &str, name: &str, path: &Path) -> Result<u32> {
    spawn(
        st,
        &Spawn {
            name: &format!("unit-{name}"),
            netns,
            argv: vec![
                lab_bin(st),
                "supervise".into(),
                "--unit".into(),
                path.display().to_string(),
            ],
            env: vec![
                ("OPENCLAW_LAB_STATE".into(), st.display().to_string()),
                (
                    "CONTAINERS_CONF".into(),
                    container_host::containers_conf(st).display().to_string(),
                ),
            ],
            user: None,
            cwd: None,
        },
    )
}

/// HTTP status of `GET url` from inside `netns` (0 when no answer).
pub fn http_status(netns: &str, url: &str, extra: &[&str]) -> u16 {
    let mut argv: Vec<String> = [
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(extra.iter().map(|s| s.to_string()));
    argv.push(url.into());
    let mut c = netns_command(netns, None, &argv);
    output_within(&mut c, Duration::from_secs(5))
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

pub fn wait_ready(spec: &Spec, limit: Duration) -> Result<Duration> {
    let t = Instant::now();
    let url = format!("http://127.0.0.1:{}/readyz", spec.gateway.port);
    wait_for(limit, Duration::from_millis(250), || {
        (http_status(&GATEWAY.netns(), &url, &[]) == 200).then_some(())
    })
    .with_context(|| format!("the gateway's /readyz did not answer 200 within {limit:?}"))?;
    Ok(t.elapsed())
}

/// Removes a lab left over by a crashed run before a test brings up its own; refuses to
/// touch one a person brought up (`openclaw-lab up`).
pub fn clear_leftovers(what: &str) -> Result<()> {
    crate::owner::ensure_not_kept(&state::state_dir(), what)?;
    down()
}

/// The lab's effective spec (written by `up`).
pub fn load_effective_spec() -> Result<Spec> {
    let p = state::state_dir().join("spec.json");
    Spec::from_path(&p).with_context(|| format!("{}: is the lab up?", p.display()))
}

pub fn print_up(u: &Up) {
    let p = u.spec.proxy.as_ref();
    let token = u
        .spec
        .gateway
        .token
        .as_ref()
        .and_then(|t| u.spec.secret_location(t));
    println!(
        "openclaw-lab is up ({:.0} s). State: {}",
        u.seconds,
        u.state.display()
    );
    if p.is_some() {
        print_webchat(u, token.as_ref());
    } else if let Some(openclaw_render::spec::SecretLocation::File { path }) = &token {
        println!(
            "Gateway token (rendered by the OpenBao agent, readable by root and {}): {path}",
            u.spec.paths.service_user
        );
    }
    let lab = u.state.join("bin/openclaw-lab");
    println!(
        "Gateway: {} (the rendered {} unit)\n\
         Checks on the gateway host: bash scripts/lab.sh check egress|secrets|auth|container\n\
         \x20 (or {lab} check egress --host gateway; add --from-container for the container's own packets)\n\
         The WebChat in headless Chromium, with screenshots in {}/browser: bash scripts/lab.sh check browser\n\
         Models: gateway -> egress proxy -> LiteLLM (llm host) -> provider-a, falling back to provider-b;\n\
         \x20 make a provider fail: echo 503 > {}/providers/provider-a/mode (or 500, 429, hang, slow 8000; up)\n\
         Logs: {}/logs   Status: bash scripts/lab.sh status   Tear down: bash scripts/lab.sh down",
        match u.spec.runtime {
            Runtime::Container => "rootful Podman container",
            Runtime::Native => "native process",
        },
        u.spec.gateway_unit(),
        u.state.display(),
        u.state.display(),
        u.state.display(),
        lab = lab.display()
    );
}

/// How a person opens the WebChat: the URL on this machine's loopback, the name to map, the
/// tunnel from a laptop, then the three things the page asks for.
fn print_webchat(u: &Up, token: Option<&openclaw_render::spec::SecretLocation>) {
    let (Ok(url), Ok((host, port))) = (
        crate::publish::webchat_url(&u.spec),
        crate::publish::proxy_site(&u.spec),
    ) else {
        return;
    };
    let token_path = match token {
        Some(openclaw_render::spec::SecretLocation::File { path }) => path.clone(),
        _ => "(the gateway's token file)".into(),
    };
    println!(
        "\nWebChat: {url}\n\
         \x20 published on 127.0.0.1:{port} and [::1]:{port} of this machine only (the LAN host's view of Caddy).\n\
         \x20 Point the name at loopback in the browser's machine: add `127.0.0.1 {host}` to its hosts file, or\n\
         \x20   chromium --host-resolver-rules='MAP {host} 127.0.0.1' {url}\n\
         \x20 From a laptop: ssh -L {port}:127.0.0.1:{port} root@THIS-MACHINE, then the same URL there.\n\
         \x20 TLS is from the lab's CA: trust {ca} in the browser, or accept its warning.\n\
         \x20 1. Sign in: the identity fixture (stand-in for Keycloak) asks for a user name.\n\
         \x20 2. Gateway secret: paste the token from {token_path} (root can read it: `cat` it there).\n\
         \x20 3. The page shows `openclaw devices approve ID` once per browser: run\n\
         \x20      bash scripts/lab.sh approve ID\n\
         \x20    and the page connects on its own. The same flow runs in `openclaw-lab check browser`.\n",
        ca = u.state.join("pki/root_ca.crt").display(),
    );
}

pub fn down() -> Result<()> {
    require_root()?;
    let st = state::state_dir();
    crate::owner::ensure_free(&st, "`down`")?;
    // Supervisors first, so nothing restarts what the namespace sweep kills.
    for (name, _, _) in state::processes(&st) {
        if name.starts_with("unit-") {
            // A container unit stops through ExecStop= (podman rm: up to its stop timeout).
            state::stop(&st, &name, Duration::from_secs(40));
        }
    }
    for (name, _, _) in state::processes(&st) {
        state::stop(&st, &name, Duration::from_secs(5));
    }
    if let Ok(spec) = load_effective_spec() {
        container_host::cleanup(&spec, &st);
    }
    netns::destroy()?;
    gateway::remove_created_users();
    if st.exists() {
        std::fs::remove_dir_all(&st).with_context(|| format!("removing {}", st.display()))?;
    }
    let _ = std::fs::remove_dir("/run/openclaw-lab");
    Ok(())
}

pub fn status() -> Result<Value> {
    let st = state::state_dir();
    let procs: Vec<Value> = state::processes(&st)
        .into_iter()
        .map(|(n, pid, alive)| json!({"name": n, "pid": pid, "alive": alive}))
        .collect();
    let mut units = Vec::new();
    if let Ok(rd) = std::fs::read_dir(st.join("units")) {
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "json") {
                if let Ok(v) =
                    std::fs::read_to_string(e.path()).map(|t| serde_json::from_str::<Value>(&t))
                {
                    units.push(v.unwrap_or(Value::Null));
                }
            }
        }
    }
    let hosts: Vec<Value> = netns::describe()
        .into_iter()
        .map(|(ns, a)| json!({"netns": ns, "addresses": a.trim()}))
        .collect();
    Ok(json!({"state_dir": st, "hosts": hosts, "processes": procs, "units": units}))
}

/// The supervisor status file of a unit.
pub fn unit_status(st: &Path, unit: &str) -> Option<crate::units::UnitStatus> {
    serde_json::from_str(
        &std::fs::read_to_string(st.join("units").join(format!("{unit}.json"))).ok()?,
    )
    .ok()
}

/// A handle on the running lab's OpenBao (root token from the 0600 init file).
pub fn vault_handle() -> Result<Vault> {
    let st = state::state_dir();
    Ok(Vault::new(
        &st,
        components::bao()?,
        &Pki::new(st.join("pki")),
    ))
}

/// Stops one lab process by its pidfile name (`vault`, `llm`, `unit-openclaw.service`).
pub fn stop_process(name: &str) {
    state::stop(&state::state_dir(), name, Duration::from_secs(10));
}
