//! TLS to PostgreSQL (docs/deploy.md, "TLS to the database"): a throwaway cluster with
//! TLS on 127.0.0.1 and a certificate from a private CA; each `sslmode` connects or is
//! refused as libpq's would, and a connection that connects is encrypted (the server's
//! `pg_stat_ssl` says so). Skips without PostgreSQL, fails under `CI=true`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and the cluster helper is `pub` for this file"
)]

mod pg;

use meshline_serve::store::StoreError;
use meshline_serve::store_pg::PgStore;

/// Whether the store's own connection is encrypted, by the server's account.
fn encrypted(url: &str) -> Result<bool, String> {
    let mut c = meshline_serve::lease::connect(url, "meshline").map_err(|e| e.to_string())?;
    let row = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[test]
fn each_sslmode_connects_or_refuses_as_libpq_would() {
    let (ca, cert, key) = pg::tls_pki("db");
    let Some(cluster) = pg::Cluster::start_tls(&cert, &key) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let (other_ca, _, _) = pg::tls_pki("other");
    let other_file = dir.path().join("other.pem");
    std::fs::write(&other_file, &other_ca).unwrap();
    let port = cluster.port();
    let url = |host: &str, params: &str| {
        format!("postgresql://postgres@{host}:{port}/postgres?connect_timeout=5{params}")
    };
    let ca_param = format!("&sslrootcert={}", ca_file.display());

    // The store opens (tables created) over a verified connection.
    let full = url("localhost", &format!("&sslmode=verify-full{ca_param}"));
    PgStore::connect(&full, "meshline").expect("verify-full with the database's CA");
    assert_eq!(encrypted(&full), Ok(true));

    // verify-ca checks the chain, not the name (the certificate names `localhost`).
    let by_ip = url("127.0.0.1", &format!("&sslmode=verify-ca{ca_param}"));
    assert_eq!(encrypted(&by_ip), Ok(true));
    let full_by_ip = url("127.0.0.1", &format!("&sslmode=verify-full{ca_param}"));
    let e = encrypted(&full_by_ip).unwrap_err();
    assert!(e.contains("certificate"), "{e}");

    // Another CA: refused, by the store as well, with a reason that names the certificate.
    let wrong = url(
        "localhost",
        &format!("&sslmode=verify-full&sslrootcert={}", other_file.display()),
    );
    let e = encrypted(&wrong).unwrap_err();
    assert!(e.contains("certificate"), "{e}");
    let Err(e) = PgStore::connect(&wrong, "meshline") else {
        panic!("a certificate from another CA was accepted");
    };
    assert!(matches!(e, StoreError::Postgres(_)), "{e}");

    // require and prefer (the default) encrypt without checking the certificate, as
    // libpq does; disable does not encrypt.
    assert_eq!(encrypted(&url("localhost", "&sslmode=require")), Ok(true));
    assert_eq!(encrypted(&url("localhost", "")), Ok(true));
    assert_eq!(encrypted(&url("localhost", "&sslmode=disable")), Ok(false));
    // require with a root certificate checks the chain (libpq: as verify-ca).
    let e = encrypted(&url(
        "localhost",
        &format!("&sslmode=require&sslrootcert={}", other_file.display()),
    ))
    .unwrap_err();
    assert!(e.contains("certificate"), "{e}");

    // Over the Unix socket `sslmode` is ignored, as libpq ignores it: local, not encrypted.
    let socket = format!("{}&sslmode=require", cluster.postgres_url());
    PgStore::connect(&socket, "meshline").expect("a socket with sslmode=require");
    assert_eq!(encrypted(&socket), Ok(false));

    // Settings that cannot work are refused before connecting, naming the setting.
    let Err(e) = PgStore::connect(
        &url("localhost", "&sslmode=verify-full").replace("postgres@", "postgres:pw@"),
        "meshline",
    ) else {
        panic!("verify-full without sslrootcert was accepted");
    };
    assert!(matches!(e, StoreError::Tls(_)), "{e}");
    assert!(e.to_string().contains("needs sslrootcert"), "{e}");
    assert!(!e.to_string().contains("pw"), "{e}");
}
