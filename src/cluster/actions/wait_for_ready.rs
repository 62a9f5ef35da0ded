//! `--wait`: poll the control planes' Ready condition until the deadline.
//! A timeout is a warning, not an error (spec §4.9).

use std::time::{Duration, Instant};

use crate::cluster::{nodes, ActionContext};
use crate::config::ROLE_CONTROL_PLANE;
use crate::gotext::go_duration;
use crate::kubeadm;

pub async fn run(ctx: &ActionContext<'_>, wait: Duration) -> anyhow::Result<()> {
    ctx.log.status_start(&format!(
        "Waiting ≤ {} for control-plane = Ready ⏳",
        go_duration(round_secs(wait))
    ));
    let start = Instant::now();
    let node = nodes::by_role(ctx.nodes().await?, ROLE_CONTROL_PLANE)
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("expected at least one control plane node"))?;
    let selector = kubeadm::control_plane_selector(&ctx.kubernetes_version(&node).await?)?;
    let selector_flag = format!("--selector={selector}");
    let argv = [
        "kubectl",
        "--kubeconfig=/etc/kubernetes/admin.conf",
        "get",
        "nodes",
        selector_flag.as_str(),
        // The quotes are part of the argument, as upstream passes them.
        "-o=jsonpath='{.items..status.conditions[-1:].status}'",
    ];
    while start.elapsed() < wait {
        if let Ok(out) = ctx.exec(&node, &argv).await {
            if all_true(&String::from_utf8_lossy(&out.stdout)) {
                ctx.log.status_end(true);
                ctx.log.info(&format!(
                    " • Ready after {} 💚",
                    go_duration(round_secs(start.elapsed()))
                ));
                return Ok(());
            }
        }
        // Upstream polls without pausing; a short pause spares the engine.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ctx.log.status_end(false);
    ctx.log.warn(" • WARNING: Timed out waiting for Ready ⚠️");
    Ok(())
}

/// Every whitespace-separated status contains `True` (and there is one).
pub fn all_true(output: &str) -> bool {
    let fields: Vec<&str> = output.split_whitespace().collect();
    !fields.is_empty() && fields.iter().all(|f| f.contains("True"))
}

fn round_secs(d: Duration) -> Duration {
    Duration::from_secs((d.as_millis() as u64 + 500) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_print_rounded_to_seconds() {
        assert_eq!(go_duration(round_secs(Duration::from_millis(1500))), "2s");
    }

    #[test]
    fn ready_needs_every_condition_true() {
        assert!(all_true("'True'"));
        assert!(all_true("'True True'"));
        assert!(!all_true("'True False'"));
        assert!(!all_true(""));
    }
}
