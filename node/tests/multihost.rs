//! Multi-host for real: `scripts/netns-consortium` puts four members and an observer (the
//! regulator) in five network namespaces with their own addresses on a bridge (degraded links:
//! netem delay and loss where the kernel has netem, iptables loss otherwise), runs the key
//! ceremony with each member's keys only in its own directory (the genesis admits the observer),
//! starts the validators and the observer, records a supply-chain story, partitions one member
//! away and heals it, checks it catches up, and verifies a proof fetched from the observer from
//! the genesis alone. The
//! script is what an operator reads and runs; this test runs it with the freshly built binary.
//! It needs root and `ip netns`; elsewhere the script exits 77 and the test says it skipped.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_waybill");

/// The script's exit status when it cannot run here (not root, no network namespaces).
const SKIPPED: i32 = 77;
/// Far above a run's length (about 10 s); only a hung run reaches it.
const LIMIT: Duration = Duration::from_secs(600);

#[test]
fn four_members_and_an_observer_on_five_network_namespaces() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/netns-consortium");
    // Output goes to files, so a chatty failure cannot block the script on a full pipe.
    let out = tempfile::tempdir().unwrap();
    let (stdout_path, stderr_path) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new("bash")
        .arg(&script)
        .args(["--waybill", EXE])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            // SIGTERM lets the script's trap remove the namespaces and stop the nodes.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let status = child.wait().unwrap();
            panic!("netns-consortium did not finish in {LIMIT:?} ({status})");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    if status.code() == Some(SKIPPED) {
        eprintln!("skipped: {}", stderr.trim());
        return;
    }
    assert!(
        status.success(),
        "netns-consortium failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for step in [
        "ceremony 5",
        "while cut off",
        "retailer caught up",
        "regulator runs as an observer",
        "observer regulator followed",
        "a proof from the observer",
        "proof verified",
        "netns-consortium: ok",
    ] {
        assert!(stdout.contains(step), "no {step:?} in:\n{stdout}");
    }
    eprintln!("{stdout}");
}
