//! The running server's background work: each job a task run now and then every interval, until
//! shutdown. Shutdown lets a run in progress finish (within a grace period, then cancels it) and
//! waits for every task, so nothing outlives the database pool. Every job is visible in
//! `/metrics`: `background_job_runs_total{job}`, `background_job_failures_total{job}` and
//! `background_jobs_running{job}` (1 while its task is alive).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A job's one run: `Err` with a message for the logs when it failed (it runs again at its next
/// interval).
pub type JobRun = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Owns the server's background tasks.
pub struct Supervisor {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    running: Arc<AtomicUsize>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        Supervisor {
            stop: watch::channel(false).0,
            tasks: JoinSet::new(),
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `job` now, then `every` after each run ends, until shutdown.
    pub fn every(
        &mut self,
        name: &'static str,
        every: Duration,
        mut job: impl FnMut() -> JobRun + Send + 'static,
    ) {
        let mut stopped = self.stop.subscribe();
        let running = Running::start(name, self.running.clone());
        // Counted from the start, so `/metrics` lists the job before its first run ends.
        metrics::counter!("background_job_runs_total", "job" => name).increment(0);
        metrics::counter!("background_job_failures_total", "job" => name).increment(0);
        self.tasks.spawn(async move {
            let _running = running;
            loop {
                if *stopped.borrow() {
                    return;
                }
                // A panic in one run is counted as a failure; the job keeps its schedule.
                let outcome = match AssertUnwindSafe(job()).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(_) => Err("the run panicked".to_owned()),
                };
                metrics::counter!("background_job_runs_total", "job" => name).increment(1);
                if let Err(error) = outcome {
                    metrics::counter!("background_job_failures_total", "job" => name).increment(1);
                    tracing::warn!(job = name, %error, "background job failed; retrying later");
                }
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
        });
    }

    /// Tasks alive now (what `background_jobs_running` sums, for this server only).
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// A handle on the count of tasks alive, that outlives the supervisor.
    pub fn handle(&self) -> BackgroundJobs {
        BackgroundJobs(self.running.clone())
    }

    /// Stops every task: a run in progress may finish within `grace`, then it is cancelled.
    /// Returns once no task is left.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let drained = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("background jobs still running after the grace period; cancelling");
            self.tasks.shutdown().await;
        }
    }
}

/// The count of one server's background tasks alive (see [`Supervisor::handle`]).
#[derive(Clone, Debug)]
pub struct BackgroundJobs(Arc<AtomicUsize>);

impl BackgroundJobs {
    pub fn running(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// One task's place in the counts: taken when it starts, given back however it ends (returned,
/// cancelled or panicked).
struct Running {
    name: &'static str,
    count: Arc<AtomicUsize>,
}

impl Running {
    fn start(name: &'static str, count: Arc<AtomicUsize>) -> Running {
        count.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!("background_jobs_running", "job" => name).increment(1.0);
        Running { name, count }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!("background_jobs_running", "job" => self.name).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    #[tokio::test]
    async fn shutdown_stops_every_task_and_waits_for_a_run_in_progress() {
        let mut supervisor = Supervisor::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        supervisor.every("test_counting", Duration::from_millis(5), move || {
            let counted = counted.clone();
            Box::pin(async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        });
        let finished = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let mut started_tx = Some(started_tx);
        let done = finished.clone();
        supervisor.every("test_slow", Duration::from_secs(3600), move || {
            let done = done.clone();
            let started = started_tx.take();
            Box::pin(async move {
                if let Some(started) = started {
                    let _ = started.send(());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                done.store(true, Ordering::SeqCst);
                Err("slow job failed on purpose".into())
            })
        });
        assert_eq!(supervisor.running(), 2);
        started_rx.await.unwrap();
        while runs.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let running = supervisor.running.clone();
        supervisor.shutdown(Duration::from_secs(5)).await;
        assert_eq!(running.load(Ordering::SeqCst), 0, "every task ended");
        assert!(
            finished.load(Ordering::SeqCst),
            "the run in progress finished before shutdown returned"
        );
        let after = runs.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            after,
            "nothing runs after shutdown"
        );
    }

    #[tokio::test]
    async fn a_run_past_the_grace_period_is_cancelled() {
        let mut supervisor = Supervisor::new();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let mut started_tx = Some(started_tx);
        supervisor.every("test_stuck", Duration::from_secs(3600), move || {
            let started = started_tx.take();
            Box::pin(async move {
                if let Some(started) = started {
                    let _ = started.send(());
                }
                std::future::pending::<()>().await;
                Ok(())
            })
        });
        started_rx.await.unwrap();
        let running = supervisor.running.clone();
        tokio::time::timeout(
            Duration::from_secs(5),
            supervisor.shutdown(Duration::from_millis(50)),
        )
        .await
        .expect("shutdown returns after the grace period");
        assert_eq!(running.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_panicking_run_is_a_failure_and_the_job_keeps_running() {
        let mut supervisor = Supervisor::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        supervisor.every("test_panicking", Duration::from_millis(5), move || {
            let counted = counted.clone();
            Box::pin(async move {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first run panics");
                }
                Ok(())
            })
        });
        tokio::time::timeout(Duration::from_secs(5), async {
            while runs.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the job ran again after its run panicked");
        assert_eq!(supervisor.running(), 1, "its task is still alive");
        supervisor.shutdown(Duration::from_secs(5)).await;
    }
}
