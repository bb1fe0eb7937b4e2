//! The client that Autobahn|Testsuite's fuzzingserver tests
//! (`scripts/autobahn/run-client.sh`): asks for the number of cases, runs
//! every case by echoing each message back until the connection ends, then
//! has the server write its reports.
//!
//! ```text
//! cargo run --release -p adapter-tokio --example autobahn-client -- ws://127.0.0.1:9002
//! ```

use std::error::Error as StdError;

use adapter_tokio::{connect_url, Message};

const AGENT: &str = "sockway";

#[tokio::main]
async fn main() -> Result<(), Box<dyn StdError>> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9002".to_owned());
    let base = base.trim_end_matches('/');

    let count = case_count(base).await?;
    for case in 1..=count {
        // A failed case is Autobahn's to report; go on with the next one.
        let _ = run_case(&format!("{base}/runCase?case={case}&agent={AGENT}")).await;
    }

    let (mut ws, _) = connect_url(&format!("{base}/updateReports?agent={AGENT}")).await?;
    while let Some(message) = ws.recv().await {
        message?;
    }
    Ok(())
}

async fn case_count(base: &str) -> Result<u32, Box<dyn StdError>> {
    let (mut ws, _) = connect_url(&format!("{base}/getCaseCount")).await?;
    let mut count = None;
    while let Some(message) = ws.recv().await {
        if let Message::Text(text) = message? {
            count = Some(text.trim().parse()?);
        }
    }
    count.ok_or_else(|| "no case count received".into())
}

async fn run_case(url: &str) -> Result<(), adapter_tokio::Error> {
    let (mut ws, _) = connect_url(url).await?;
    while let Some(message) = ws.recv().await {
        // After a send error (the close handshake started) keep reading:
        // the stream ends once the handshake is over.
        let _ = ws.send(message?).await;
    }
    Ok(())
}
