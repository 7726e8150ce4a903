use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::{ClientCertificate, TlsError};

/// How long a client gets to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handler learns about the TLS client: inserted into every request's extensions
/// by [`serve`] (extract it with `axum::Extension<ConnectionInfo>`). `serve` also inserts
/// axum's `ConnectInfo<SocketAddr>`.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub peer_addr: SocketAddr,
    /// The verified client certificate, if the client presented one. Parsed once per
    /// connection and shared by all its requests.
    pub client_certificate: Option<Arc<ClientCertificate>>,
}

/// Accept loop: TLS handshake per connection (bounded by [`HANDSHAKE_TIMEOUT`]; a failed
/// handshake is logged at debug and never stops the loop), then `app` over HTTP/1.1 or
/// HTTP/2, with [`ConnectionInfo`] in each request's extensions.
///
/// When `shutdown` completes: stop accepting, ask in-flight connections to finish (HTTP/1.1
/// closes after the current response, HTTP/2 sends GOAWAY), wait at most `drain` for them,
/// abort whatever is left, then return.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> Result<(), TlsError> {
    let acceptor = TlsAcceptor::from(config);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A timer enables hyper's HTTP/1 header-read timeout (slow-loris protection).
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(joined) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = joined
                    && error.is_panic()
                {
                    tracing::error!(%error, "connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer_addr)) => {
                    // The watcher is taken now, not after the handshake, so a connection
                    // whose handshake straddles shutdown still gets told to wind down.
                    connections.spawn(handle_connection(
                        tcp,
                        peer_addr,
                        acceptor.clone(),
                        builder.clone(),
                        app.clone(),
                        graceful.watcher(),
                    ));
                }
                Err(error) => {
                    // Typically EMFILE or a connection reset before accept; back off briefly
                    // rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }

    drop(listener);
    tracing::debug!(connections = connections.len(), "draining connections");
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = connections.len(),
            "drain period elapsed; aborting remaining connections"
        );
    }
    connections.shutdown().await;
    Ok(())
}

async fn handle_connection(
    tcp: TcpStream,
    peer_addr: SocketAddr,
    acceptor: TlsAcceptor,
    builder: Arc<auto::Builder<TokioExecutor>>,
    app: Router,
    watcher: Watcher,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%peer_addr, %error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer_addr, "TLS handshake timed out");
            return;
        }
    };

    let client_certificate = match tls.get_ref().1.peer_certificates() {
        None | Some([]) => None,
        Some(chain) => match ClientCertificate::from_chain(chain.to_vec()) {
            Ok(certificate) => Some(Arc::new(certificate)),
            Err(error) => {
                // rustls accepted it but we cannot read it: refuse rather than treat an
                // authenticated client as anonymous.
                tracing::warn!(%peer_addr, %error, "unparseable client certificate");
                return;
            }
        },
    };
    let info = ConnectionInfo {
        peer_addr,
        client_certificate,
    };

    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let extensions = request.extensions_mut();
        extensions.insert(info.clone());
        extensions.insert(ConnectInfo(peer_addr));
        app.clone().oneshot(request)
    });
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%peer_addr, %error, "connection ended with error");
    }
}
