//! Singleton work among several instances sharing one database: a Discord
//! gateway shard must be connected by exactly one of them. Each instance runs
//! [`hold`] for each such job; the one that takes the job's lease (a row in
//! the `leases` table) runs it and renews the lease every third of its
//! length; the others stand by and retry every half length. A graceful stop
//! releases the lease at once; a crash lets it lapse, and a standby takes
//! over within one and a half lease lengths (the lapse, then its next check).
//!
//! A holder that cannot renew (database unreachable, or the lease taken
//! because this process stalled past its expiry) is told to quit before the
//! lease can lapse, so two holders overlap by at most the job's own
//! shutdown time. Expiry compares the instances' wall clocks: keep them in
//! NTP sync, as any deployment of several machines does.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;

use crate::store::Store;

/// A name for this process among its peers: host, pid and start time.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "quorum".into());
    format!(
        "{host}/{}/{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default() % 1_000_000_000
    )
}

/// Run `job` whenever this instance holds the lease `name`, until `stop`
/// turns true. `job` gets a receiver that turns true when it must end (the
/// lease is lost or the instance stops); it returns when it has ended. The
/// lease is released after each run; a failed run waits half a lease
/// before competing again, so a standby can take its turn.
pub async fn hold<F, Fut>(
    store: Store,
    name: String,
    holder: String,
    ttl: Duration,
    mut stop: watch::Receiver<bool>,
    mut job: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let ttl_secs = ttl.as_secs().max(1) as i64;
    let ttl = Duration::from_secs(ttl_secs as u64);
    let standby = ttl / 2;
    loop {
        if *stop.borrow() {
            return;
        }
        match store
            .acquire_lease(&name, &holder, ttl_secs, Utc::now().timestamp())
            .await
        {
            Ok(true) => {
                tracing::info!(lease = %name, holder = %holder, "took the lease: starting");
                let outcome = run_holding(&store, &name, &holder, ttl, &mut stop, &mut job).await;
                if let Err(e) = store.release_lease(&name, &holder).await {
                    tracing::warn!(lease = %name, error = %e, "could not release the lease; it will lapse");
                }
                match outcome {
                    Ok(()) => tracing::info!(lease = %name, "stopped and released the lease"),
                    Err(e) => {
                        tracing::error!(lease = %name, error = %format!("{e:#}"), "the job failed; released the lease")
                    }
                }
            }
            Ok(false) => {
                tracing::debug!(lease = %name, "another instance holds the lease: standing by")
            }
            Err(e) => {
                tracing::warn!(lease = %name, error = %format!("{e:#}"), "cannot reach the lease")
            }
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(standby) => {}
            r = stop.changed() => if r.is_err() { return },
        }
    }
}

/// One run of `job` while renewing the lease; tells the job to quit when the
/// lease is lost or the instance stops, and waits for it to end.
async fn run_holding<F, Fut>(
    store: &Store,
    name: &str,
    holder: &str,
    ttl: Duration,
    stop: &mut watch::Receiver<bool>,
    job: &mut F,
) -> anyhow::Result<()>
where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let (quit, quit_rx) = watch::channel(*stop.borrow());
    let work = job(quit_rx);
    tokio::pin!(work);
    let mut renew = tokio::time::interval(ttl / 3);
    renew.tick().await;
    let mut renewed = Instant::now();
    let mut quitting = *stop.borrow();
    loop {
        tokio::select! {
            r = &mut work => return r,
            _ = renew.tick() => {
                match store.acquire_lease(name, holder, ttl.as_secs() as i64, Utc::now().timestamp()).await {
                    Ok(true) => renewed = Instant::now(),
                    Ok(false) => {
                        tracing::warn!(lease = %name, "the lease was taken by another instance: stopping");
                        quitting = true;
                        let _ = quit.send(true);
                    }
                    Err(e) if renewed.elapsed() >= ttl * 2 / 3 => {
                        tracing::warn!(lease = %name, error = %format!("{e:#}"), "cannot renew the lease before it lapses: stopping");
                        quitting = true;
                        let _ = quit.send(true);
                    }
                    Err(e) => tracing::warn!(lease = %name, error = %format!("{e:#}"), "renewing the lease failed; retrying"),
                }
            }
            r = stop.changed(), if !quitting => {
                if r.is_err() || *stop.borrow() {
                    quitting = true;
                    let _ = quit.send(true);
                }
            }
        }
    }
}
