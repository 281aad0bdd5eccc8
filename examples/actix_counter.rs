//! A page-view counter in a sealed cookie, on actix-web.
//!
//! ```text
//! cargo run --example actix_counter      # then: curl -c jar -b jar 127.0.0.1:8080/
//! ```

use actix_web::{App, HttpServer, web};
use sealed_session::actix::SessionMiddleware;
use sealed_session::{Secret, Session, SessionBuilder};

async fn count(session: Session) -> actix_web::Result<String> {
    let n = session.get::<u64>("views")?.unwrap_or(0) + 1;
    session.insert("views", &n)?;
    Ok(format!("{n} views\n"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // A random secret: sessions end when the process does. Use `Keyring::from_env` for real.
    let engine = SessionBuilder::new(Secret::generate())
        .build()
        .expect("the default configuration is valid");
    let sessions = SessionMiddleware::new(engine);
    println!("listening on http://127.0.0.1:8080/");
    HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .route("/", web::get().to(count))
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
