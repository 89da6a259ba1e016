//! Services of both real servers (Prosody and ejabberd): ad-hoc commands (XEP-0050, with their data forms: the
//! admin's "Add User", then a login as the new user; a cancel; a refusal), in-band registration (XEP-0077: the
//! account's fields, a password change, the cancellation of the account; a nickname registered with a room
//! through its data form), and HTTP file upload (XEP-0363: discovery, a slot, the PUT of 1 MB with progress
//! reports, the GET of the shared URL, and the "file too large" error with the server's maximum). What a server
//! does not offer (ejabberd's test configuration has no admin commands, and registers nicknames with its MUC
//! service, not with a room) is asserted from its disco answers.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::{client, features_of, jid, packet};
use moxl::prelude::*;
use moxl::transport::{TlsConfig, TransportError};
use moxl::xep::xep_0045_muc::{Configure, History, Join};
use moxl::xep::xep_0050_adhoc::{
    Command, CommandAction, CommandFailure, CommandResponse, Execute, List, NoteType, Status,
};
use moxl::xep::xep_0077_register::{Cancel, ChangePassword, GetFields, RegistrationError, RegistrationFields, Submit};
use moxl::xep::xep_0363_upload::{download, Discover, RequestSlot, Slot, SlotError, Upload, UploadBody, UploadService};
use moxl_test_support::{Ejabberd, Server, ServerKind};

const ADD_USER: &str = "http://jabber.org/protocol/admin#add-user";

/// Both servers with juliet (an admin) and romeo, HTTP upload on, started once for this file.
fn servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        vec![
            Server::Prosody(common::accounts().admin("juliet").http_upload(true).start().expect("Prosody starts")),
            Server::Ejabberd(
                Ejabberd::builder()
                    .account("juliet", "secret")
                    .account("romeo", "montague")
                    .admin("juliet")
                    .start()
                    .expect("ejabberd starts"),
            ),
        ]
    })
}

#[tokio::test]
async fn an_admin_adds_a_user_through_an_ad_hoc_command_form() -> Result<()> {
    for p in servers() {
        an_admin_adds_a_user_through_an_ad_hoc_command_form_on(p).await?;
    }
    Ok(())
}

async fn an_admin_adds_a_user_through_an_ad_hoc_command_form_on(p: &Server) -> Result<()> {
    let juliet = client(p, "juliet", "secret").connect().await?;
    let ctx = juliet.xec().context();
    assert!(features_of(&juliet, p.domain()).await.iter().any(|f| f == "http://jabber.org/protocol/commands"));

    // §3.2: the server's commands (a disco#items of the commands node). ejabberd's test configuration has no
    // mod_configure: no admin commands, not even for an admin.
    let mut lists = juliet.xec().subscribe("adhoc_list_handle");
    ctx.request(List { to: p.domain().to_owned() })?;
    let commands = packet(&mut lists).await.content::<Vec<Command>>().unwrap().clone();
    if p.kind() == ServerKind::Ejabberd {
        assert!(!commands.iter().any(|c| c.node.starts_with("http://jabber.org/protocol/admin#")), "{commands:?}");
        return Ok(());
    }
    let add_user = commands.iter().find(|c| c.node == ADD_USER).expect("Add User is offered to an admin");
    assert_eq!((add_user.jid.as_str(), add_user.name.as_deref()), (p.domain(), Some("Add User")));

    // §3.3: execute: a form to fill
    let mut responses = juliet.xec().subscribe("adhoc_execute_handle");
    ctx.request(Execute::new(add_user.jid.clone(), ADD_USER))?;
    let stage = packet(&mut responses).await.content::<CommandResponse>().unwrap().clone();
    assert_eq!(stage.status, Some(Status::Executing));
    assert!(stage.sessionid.is_some());
    assert_eq!(stage.default_action(), Some(CommandAction::Complete));
    let form = stage.form.clone().expect("a form");
    assert_eq!(form.form_type_value(), Some("http://jabber.org/protocol/admin"));
    assert!(form.field("accountjid").unwrap().required);

    // submit it (complete), with the session kept
    let new_user = jid(p, "benvolio").to_string();
    let filled = form
        .submission()
        .with_value("accountjid", new_user.clone())
        .with_value("password", "peacemaker")
        .with_value("password-verify", "peacemaker");
    ctx.request(stage.complete(filled))?;
    let done = packet(&mut responses).await.content::<CommandResponse>().unwrap().clone();
    assert_eq!(done.status, Some(Status::Completed), "{done:?}");
    assert_eq!(done.sessionid, stage.sessionid);
    assert_eq!(done.errors().count(), 0, "{done:?}");
    assert!(done.notes.iter().any(|n| n.kind == NoteType::Info), "{done:?}");
    assert!(done.is_over() && !done.allows(CommandAction::Cancel));
    // the account exists: log in as the new user
    let benvolio = client(p, "benvolio", "peacemaker").connect().await?;
    assert_eq!(benvolio.jid().to_bare().to_string(), new_user);

    // adding it again: completed with an error note
    ctx.request(Execute::new(p.domain(), ADD_USER))?;
    let again = packet(&mut responses).await.content::<CommandResponse>().unwrap().clone();
    let form = again.form.clone().unwrap();
    let same = form
        .submission()
        .with_value("accountjid", new_user.clone())
        .with_value("password", "x")
        .with_value("password-verify", "x");
    ctx.request(again.complete(same))?;
    let refused = packet(&mut responses).await.content::<CommandResponse>().unwrap().clone();
    assert_eq!(refused.status, Some(Status::Completed));
    assert!(refused.errors().next().is_some(), "{refused:?}");

    // §3.3.3: cancel a started session
    ctx.request(Execute::new(p.domain(), ADD_USER))?;
    let started = packet(&mut responses).await.content::<CommandResponse>().unwrap().clone();
    assert!(started.allows(CommandAction::Cancel));
    ctx.request(started.cancel())?;
    let canceled = packet(&mut responses).await.content::<CommandResponse>().unwrap().clone();
    assert_eq!(canceled.status, Some(Status::Canceled), "{canceled:?}");
    assert!(client(p, "tybalt", "x").connect().await.is_err(), "nothing was created");

    // a user who is no admin may not run it
    let romeo = client(p, "romeo", "montague").connect().await?;
    let mut errors = romeo.xec().subscribe("adhoc_execute_error");
    romeo.xec().context().request(Execute::new(p.domain(), ADD_USER))?;
    let failure = packet(&mut errors).await.content::<CommandFailure>().unwrap().clone();
    assert_eq!(failure.error.condition(), Some(Condition::Forbidden), "{failure:?}");
    Ok(())
}

#[tokio::test]
async fn a_registered_account_changes_its_password_then_cancels_itself() -> Result<()> {
    for p in servers() {
        a_registered_account_changes_its_password_then_cancels_itself_on(p).await?;
    }
    Ok(())
}

async fn a_registered_account_changes_its_password_then_cancels_itself_on(p: &Server) -> Result<()> {
    // The new account is registered at connect time (XEP-0077 §3.1, the requests of moxl_core::stream::register)
    let mercutio = client(p, "mercutio", "queenmab").register(true).connect().await?;
    let ctx = mercutio.xec().context();

    // §3.1: asked again, the server says we are registered, with our username
    let mut fields = mercutio.xec().subscribe("register_getfields_handle");
    ctx.request(GetFields { to: None })?;
    let got = packet(&mut fields).await.content::<RegistrationFields>().unwrap().clone();
    assert!(got.registered, "{got:?}");
    assert_eq!(got.value("username"), Some("mercutio"));

    // §3.3: change the password; the new one logs in, the old one no longer does
    let mut changed = mercutio.xec().subscribe("register_changepassword_handle");
    ctx.request(ChangePassword {
        to: Some(p.domain().to_owned()),
        username: "mercutio".into(),
        password: "plague".into(),
    })?;
    packet(&mut changed).await;
    let again = client(p, "mercutio", "plague").connect().await?;
    drop(again);
    assert!(client(p, "mercutio", "queenmab").connect().await.is_err(), "the old password still works");

    // §3.2: cancel the registration: the account is gone
    // Prosody answers, then closes the stream; ejabberd 23.01 closes it (conflict, "User removed") and sends a
    // result whose `from` is our full JID, which is no answer to a request without `to` (RFC 6120 §8.1.2.1:
    // the account's bare JID or none): the Cancel Action gets no answer there. Either way the account is gone.
    let mut canceled = mercutio.xec().subscribe("register_cancel_handle");
    let mut state = mercutio.state();
    ctx.request(Cancel { to: None })?;
    tokio::select! {
        _ = packet(&mut canceled) => {}
        ended = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            state.wait_for(|s| matches!(s, moxl::client::ConnectionState::Disconnected(_))),
        ), if p.kind() == ServerKind::Ejabberd => {
            assert!(ended.is_ok(), "ejabberd ends the stream of a removed account");
        }
    }
    assert!(client(p, "mercutio", "plague").connect().await.is_err(), "{}: the account still exists", p.kind());
    Ok(())
}

#[tokio::test]
async fn a_nickname_is_registered_with_a_room_through_its_data_form() -> Result<()> {
    for p in servers() {
        a_nickname_is_registered_with_a_room_through_its_data_form_on(p).await?;
    }
    Ok(())
}

async fn a_nickname_is_registered_with_a_room_through_its_data_form_on(p: &Server) -> Result<()> {
    let room = format!("orchard@{}", p.muc_domain().unwrap());
    let juliet = client(p, "juliet", "secret").connect().await?;
    let ctx = juliet.xec().context();
    // Juliet creates the room: she is its owner, so she may register with it
    let mut joins = juliet.xec().subscribe("muc_join_handle");
    ctx.request(Join::new(&room, "jules").history(History::none()))?;
    packet(&mut joins).await;
    let mut configured = juliet.xec().subscribe("muc_configure_handle");
    ctx.request(Configure::instant(&room))?;
    packet(&mut configured).await;

    // Registration with a room (XEP-0045 §7.10) is offered where the room says so (`jabber:iq:register` in its
    // disco#info): Prosody. ejabberd 23.01 registers nicknames with its MUC service only (the service offers
    // `jabber:iq:register`, its rooms do not), and answers a room's registration request with an error.
    let room_registers = features_of(&juliet, &room).await.iter().any(|f| f == "jabber:iq:register");
    let service_registers =
        features_of(&juliet, p.muc_domain().unwrap()).await.iter().any(|f| f == "jabber:iq:register");
    assert_eq!(
        (room_registers, service_registers),
        (p.kind() == ServerKind::Prosody, p.kind() == ServerKind::Ejabberd),
        "{}",
        p.kind()
    );
    if !room_registers {
        let mut errors = juliet.xec().subscribe("register_getfields_error");
        ctx.request(GetFields { to: Some(room.clone()) })?;
        let error = packet(&mut errors).await.content::<RegistrationError>().unwrap().clone();
        assert!(error.error.condition().is_some(), "{error:?}");
        return Ok(());
    }

    // §6: the service asks through a data form (FORM_TYPE muc#register, XEP-0045)
    let mut fields = juliet.xec().subscribe("register_getfields_handle");
    ctx.request(GetFields { to: Some(room.clone()) })?;
    let asked = packet(&mut fields).await.content::<RegistrationFields>().unwrap().clone();
    assert!(!asked.registered, "{asked:?}");
    let form = asked.form.expect("a data form");
    assert_eq!(form.form_type_value(), Some("http://jabber.org/protocol/muc#register"));
    assert!(form.field("muc#register_roomnick").unwrap().required);

    // submit it filled in; asked again, the service knows us under that nickname
    let mut done = juliet.xec().subscribe("register_submit_handle");
    let filled = form.submission().with_value("muc#register_roomnick", "jules");
    ctx.request(Submit { to: Some(room.clone()), fields: Vec::new(), form: Some(filled) })?;
    packet(&mut done).await;
    ctx.request(GetFields { to: Some(room.clone()) })?;
    let registered = packet(&mut fields).await.content::<RegistrationFields>().unwrap().clone();
    assert!(registered.registered, "{registered:?}");
    assert_eq!(registered.value("username"), Some("jules"));

    // someone with no affiliation may not register (registration-required)
    let romeo = client(p, "romeo", "montague").connect().await?;
    let mut errors = romeo.xec().subscribe("register_getfields_error");
    romeo.xec().context().request(GetFields { to: Some(room.clone()) })?;
    let error = packet(&mut errors).await.content::<RegistrationError>().unwrap().clone();
    assert_eq!(error.error.condition(), Some(Condition::RegistrationRequired), "{error:?}");
    Ok(())
}

#[tokio::test]
async fn a_megabyte_is_uploaded_over_https_and_downloaded_again() -> Result<()> {
    for p in servers() {
        a_megabyte_is_uploaded_over_https_and_downloaded_again_on(p).await?;
    }
    Ok(())
}

async fn a_megabyte_is_uploaded_over_https_and_downloaded_again_on(p: &Server) -> Result<()> {
    let juliet = client(p, "juliet", "secret").connect().await?;
    let ctx = juliet.xec().context();

    // §3: the upload service among the server's items, with its maximum file size
    let mut services = juliet.xec().subscribe("upload_discover_handle");
    ctx.request(Discover::new(p.domain()))?;
    let service = packet(&mut services).await.content::<UploadService>().unwrap().clone();
    assert_eq!(service.jid, p.upload_domain().unwrap());
    let max = service.max_file_size.expect("the service announces its limit");

    // §4: a slot for 1 MB
    const SIZE: usize = 1 << 20;
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
    let mut slots = juliet.xec().subscribe("upload_requestslot_handle");
    ctx.request(RequestSlot::new(
        service.jid.clone(),
        "balcony scene.bin",
        SIZE as u64,
        Some("application/octet-stream"),
    ))?;
    let slot = packet(&mut slots).await.content::<Slot>().unwrap().clone();
    assert!(slot.put_url.starts_with("https://127.0.0.1:"), "{slot:?}");
    // Prosody authorizes the PUT with a header; ejabberd with a secret in the URL
    let authorization = slot.put_headers.iter().any(|(n, _)| n == "Authorization");
    assert_eq!(authorization, p.kind() == ServerKind::Prosody, "{slot:?}");

    // the certificate is verified: with the public roots only, the test CA is not trusted
    let untrusted = Upload::new(TlsConfig::shared()?).put(&slot, UploadBody::bytes(data.clone())).await;
    assert!(matches!(untrusted, Err(Error::Transport(TransportError::CertificateUntrusted { .. }))), "{untrusted:?}");

    // the PUT, streamed from a reader, with progress reports
    let tls = TlsConfig::only_ca_pem(p.ca_pem())?;
    let reports = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&reports);
    let url = Upload::new(tls.clone())
        .on_progress(move |sent, total| log.lock().unwrap().push((sent, total)))
        .put(&slot, UploadBody::reader(std::io::Cursor::new(data.clone())))
        .await?;
    assert_eq!(url, slot.get_url);
    let reports = reports.lock().unwrap().clone();
    assert!(reports.len() >= 8, "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0].0 < w[1].0), "{reports:?}");
    assert!(reports.iter().all(|&(_, total)| total == SIZE as u64));
    assert_eq!(reports.last(), Some(&(SIZE as u64, SIZE as u64)));

    // the GET of the shared URL gives the same bytes
    let fetched = download(&url, &tls, 2 * SIZE as u64).await?;
    assert_eq!(fetched.len(), SIZE);
    assert!(fetched == data, "the downloaded file differs");

    // §4.2: too large, with the server's maximum
    let mut errors = juliet.xec().subscribe("upload_requestslot_error");
    ctx.request(RequestSlot::new(service.jid.clone(), "too big.bin", max + 1, None))?;
    let error = packet(&mut errors).await.content::<SlotError>().unwrap().clone();
    assert!(error.file_too_large, "{error:?}");
    assert_eq!(error.max_file_size, Some(max));
    assert_eq!(error.error.condition(), Some(Condition::NotAcceptable));
    Ok(())
}
