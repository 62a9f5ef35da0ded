//! Running commands in nodes: the one exec implementation, with stdin
//! (when there is one) fed from a stream, so inputs too big to hold in
//! memory (image archives into `ctr images import -`) are never buffered.

use std::future::Future;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::{daemon_message, Docker, ExecOutput, NodeRef, RunError};

/// How long to wait for the daemon to record the exit code once the
/// output stream ended.
const EXIT_CODE_POLLS: u32 = 100;
const EXIT_CODE_POLL_INTERVAL: Duration = Duration::from_millis(20);

impl Docker {
    /// Run `argv` in a node with `input` as its stdin, like [`Docker::exec`]
    /// (`docker exec [--privileged] -i <node> <argv…>` in errors; a non-zero
    /// exit is a RunError carrying the combined output).
    ///
    /// The input is written as it arrives and the stdin closed at its end.
    /// If the command exits first, the input stream is dropped at once (so a
    /// producer feeding several nodes sees this node go away instead of
    /// blocking on it). The returned future owns everything it needs, so it
    /// can be spawned.
    pub fn exec_with_input_stream<S>(
        &self,
        node: &NodeRef,
        argv: &[String],
        input: S,
    ) -> impl Future<Output = Result<ExecOutput, RunError>> + Send + 'static
    where
        S: Stream<Item = Bytes> + Send + 'static,
    {
        let api = self.api().clone();
        let node = node.clone();
        let argv = argv.to_vec();
        async move { exec_streaming(api, node, argv, Some(input.boxed())).await }
    }

    /// Run a command in a node; non-zero exit => RunError.
    pub async fn exec(
        &self,
        node: &NodeRef,
        argv: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput, RunError> {
        let input =
            stdin.map(|data| futures_util::stream::once(async move { Bytes::from(data) }).boxed());
        exec_streaming(
            self.api().clone(),
            node.clone(),
            argv.iter().map(|a| a.to_string()).collect(),
            input,
        )
        .await
    }
}

async fn exec_streaming(
    api: bollard::Docker,
    node: NodeRef,
    argv: Vec<String>,
    input: Option<BoxStream<'static, Bytes>>,
) -> Result<ExecOutput, RunError> {
    let mut cli = vec!["docker".to_string(), "exec".to_string()];
    if node.privileged_exec() {
        cli.push("--privileged".into());
    }
    if input.is_some() {
        cli.push("-i".into());
    }
    cli.push(node.name.clone());
    cli.extend(argv.iter().cloned());
    let fail = |reason: String, output: String| RunError {
        argv: cli.clone(),
        reason,
        output,
    };
    let api_fail = |e: BollardError| {
        let msg = daemon_message(&e);
        fail(msg.clone(), msg)
    };

    let config = CreateExecOptions {
        attach_stdin: Some(input.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        // Never in Sysbox mode: privileged_exec() is false there.
        privileged: Some(node.privileged_exec()),
        cmd: Some(argv.clone()),
        ..Default::default()
    };
    let created = api
        .create_exec(&node.name, config)
        .await
        .map_err(api_fail)?;
    let started = api
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: false,
                output_capacity: None,
            }),
        )
        .await
        .map_err(api_fail)?;
    let StartExecResults::Attached {
        mut output,
        input: mut stdin,
    } = started
    else {
        return Err(fail("exec did not attach".into(), String::new()));
    };

    let feed = async move {
        let Some(mut input) = input else {
            // Nothing to send: the command's stdin is not attached.
            return std::future::pending::<()>().await;
        };
        let mut writable = true;
        while let Some(chunk) = input.next().await {
            // A command that stops reading is judged by its exit status,
            // not by the broken pipe.
            if stdin.write_all(&chunk).await.is_err() {
                writable = false;
                break;
            }
        }
        // Release the producer now, not when the command ends.
        drop(input);
        if writable {
            let _ = stdin.shutdown().await;
        }
        // Keep the write half until the output ends.
        std::future::pending::<()>().await;
    };
    let mut out = ExecOutput::default();
    let mut combined = Vec::new();
    let collect = async {
        while let Some(item) = output.next().await {
            match item? {
                LogOutput::StdErr { message } => {
                    out.stderr.extend_from_slice(&message);
                    combined.extend_from_slice(&message);
                }
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    out.stdout.extend_from_slice(&message);
                    combined.extend_from_slice(&message);
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        Ok::<(), BollardError>(())
    };
    // The output ends when the command exits; the feed is then dropped
    // (with the input stream) whatever it was doing.
    let collected = tokio::select! {
        r = collect => r,
        _ = feed => unreachable!("the feed never completes"),
    };
    collected.map_err(api_fail)?;

    let mut code = None;
    for _ in 0..EXIT_CODE_POLLS {
        let inspect = api.inspect_exec(&created.id).await.map_err(api_fail)?;
        if inspect.running != Some(true) {
            code = inspect.exit_code;
            break;
        }
        tokio::time::sleep(EXIT_CODE_POLL_INTERVAL).await;
    }
    let Some(code) = code else {
        return Err(fail(
            "exec still running after its output ended".into(),
            String::from_utf8_lossy(&combined).into_owned(),
        ));
    };
    out.exit_code = code;
    if code != 0 {
        return Err(fail(
            format!("exit status {code}"),
            String::from_utf8_lossy(&combined).into_owned(),
        ));
    }
    Ok(out)
}
