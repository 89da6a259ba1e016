//! Chained Actions, sans I/O: an Action that continues with another ([`Context::continue_with`]) hands its
//! requester on, so awaiting the first gives the last step's result (or its error), and the `…_handle` Packet
//! comes once, from the last step, not once per step.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use moxl::prelude::*;

/// Asks `left + 1` times; each reply adds its `n` to the sum; the last step's Output is the sum.
#[derive(Serialize, Deserialize)]
struct Steps {
    left: u32,
    sum: u32,
}

#[action(group = "chain")]
impl Steps {
    type Output = u32;

    fn request(&self) -> ElementBuilder {
        iq_get(Some("service.example")).append(ElementBuilder::new("count", "urn:example:chain"))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<u32> {
        let n = stanza.attr("n").and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
        let sum = self.sum + n;
        if self.left > 0 {
            ctx.continue_with(Steps { left: self.left - 1, sum })?;
        }
        Ok(sum)
    }
}

/// Answers the last request sent with a result carrying `n` (or with an error when `n` is `None`).
async fn answer(xec: &Xec, n: Option<u32>) {
    let sent = xec.take_outgoing().pop().expect("a request went out");
    let id = sent.attr("id").unwrap().into_owned();
    let reply = match n {
        Some(n) => format!("<iq xmlns='jabber:client' from='service.example' type='result' id='{id}' n='{n}'/>"),
        None => format!(
            "<iq xmlns='jabber:client' from='service.example' type='error' id='{id}'><error type='wait'>\
             <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ),
    };
    xec.dispatch(Element::parse(&reply).unwrap()).await;
}

#[tokio::test]
async fn awaiting_the_first_step_gives_the_last_steps_result_and_one_packet() -> Result<()> {
    let xec = Xec::new()?;
    let mut packets = xec.subscribe("chain_steps_handle");
    let request = xec.context().request(Steps { left: 2, sum: 0 })?;
    for n in [1, 2] {
        answer(&xec, Some(n)).await;
        assert!(packets.try_recv().is_none(), "a step that continued delivers nothing");
    }
    answer(&xec, Some(4)).await;
    assert_eq!(request.await?, 7);
    assert_eq!(packets.try_recv().and_then(|p| p.content::<u32>().copied()), Some(7));
    assert!(packets.try_recv().is_none());

    // not awaited (dropped): the Packet view alone, still once
    drop(xec.context().request(Steps { left: 1, sum: 0 })?);
    answer(&xec, Some(5)).await;
    assert!(packets.try_recv().is_none());
    answer(&xec, Some(6)).await;
    assert_eq!(packets.try_recv().and_then(|p| p.content::<u32>().copied()), Some(11));
    assert!(packets.try_recv().is_none());
    Ok(())
}

#[tokio::test]
async fn an_error_in_a_later_step_is_the_first_requesters_error() -> Result<()> {
    let xec = Xec::new()?;
    let request = xec.context().request(Steps { left: 1, sum: 0 })?;
    answer(&xec, Some(1)).await;
    answer(&xec, None).await;
    match request.await {
        Err(Error::Stanza(e)) => assert_eq!(e.condition(), Some(Condition::ResourceConstraint)),
        other => panic!("{other:?}"),
    }
    Ok(())
}
