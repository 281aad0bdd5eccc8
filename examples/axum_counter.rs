//! A page-view counter in a sealed cookie, on axum.
//!
//! ```text
//! cargo run --example axum_counter --features axum   # then: curl -c jar -b jar 127.0.0.1:8080/
//! ```

use axum::{Router, routing::get};
use sealed_session::axum::SessionLayer;
use sealed_session::{Error, Secret, Session, SessionBuilder};

async fn count(session: Session) -> Result<String, Error> {
    let n = session.get::<u64>("views")?.unwrap_or(0) + 1;
    session.insert("views", &n)?;
    Ok(format!("{n} views\n"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // A random secret: sessions end when the process does. Use `Keyring::from_env` for real.
    let engine = SessionBuilder::new(Secret::generate())
        .build()
        .expect("the default configuration is valid");
    let app = Router::new()
        .route("/", get(count))
        .layer(SessionLayer::new(engine));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("listening on http://127.0.0.1:8080/");
    axum::serve(listener, app).await
}
