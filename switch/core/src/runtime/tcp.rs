//! SIP over TCP: one reader and one writer task per connection, messages framed by
//! Content-Length; connections are reused for requests to the same peer.

use std::net::SocketAddr;

use switch_sip::message::{frame, Framing};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What connection tasks tell the SIP task.
#[derive(Debug)]
pub enum TcpIn {
    /// A connection is up; messages for `peer` go to `writer`.
    Opened {
        peer: SocketAddr,
        writer: mpsc::UnboundedSender<Vec<u8>>,
    },
    /// One framed message.
    Data { peer: SocketAddr, data: Vec<u8> },
    /// The stream could not be framed and is being closed.
    Invalid { peer: SocketAddr, reason: String },
    /// The connection is gone.
    Closed { peer: SocketAddr },
}

/// Accepts connections until the listener fails.
pub async fn accept_loop(listener: TcpListener, events: mpsc::UnboundedSender<TcpIn>, max: usize) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                serve(stream, peer, None, events.clone(), max);
            }
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Connects to `peer`, sends `first`, then serves the connection like an accepted one.
pub async fn connect(
    peer: SocketAddr,
    first: Vec<u8>,
    events: mpsc::UnboundedSender<TcpIn>,
    max: usize,
) {
    match TcpStream::connect(peer).await {
        Ok(stream) => {
            let _ = stream.set_nodelay(true);
            serve(stream, peer, Some(first), events, max);
        }
        Err(e) => {
            tracing::info!(%peer, error = %e, "TCP connect failed");
            let _ = events.send(TcpIn::Closed { peer });
        }
    }
}

fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    first: Option<Vec<u8>>,
    events: mpsc::UnboundedSender<TcpIn>,
    max: usize,
) {
    let (mut rd, mut wr) = stream.into_split();
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
    if let Some(first) = first {
        let _ = wtx.send(first);
    }
    let _ = events.send(TcpIn::Opened { peer, writer: wtx });
    tokio::spawn(async move {
        while let Some(data) = wrx.recv().await {
            if wr.write_all(&data).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 16384];
        'conn: loop {
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            loop {
                match frame(&buf, max) {
                    Framing::Incomplete => break,
                    Framing::KeepAlive(n) => {
                        buf.drain(..n);
                    }
                    Framing::Complete(n) => {
                        let data: Vec<u8> = buf.drain(..n).collect();
                        if events.send(TcpIn::Data { peer, data }).is_err() {
                            break 'conn;
                        }
                    }
                    Framing::Invalid(reason) => {
                        let _ = events.send(TcpIn::Invalid { peer, reason });
                        break 'conn;
                    }
                }
            }
        }
        let _ = events.send(TcpIn::Closed { peer });
    });
}
