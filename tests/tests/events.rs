//! The sample events in events/ are what the stepper Lambda accepts.

use engine::{Event, RunId};
use runtime::{Delivery, DeliveryKind};
use switchyard_tests::workspace_file;

fn delivery(file: &str) -> Delivery {
    serde_json::from_str(&workspace_file(&format!("events/{file}"))).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_stepper_events_parse_as_deliveries() {
    let start = delivery("stepper-start.json");
    assert_eq!(start, Delivery::start("arn:aws:states:us-east-1:123456789012:execution:order-saga:order-1042"));

    let advance = delivery("stepper-advance.json");
    assert_eq!(advance.run, RunId::root());
    assert_eq!(advance.kind, DeliveryKind::Event(Event::Advance { version: 3 }));
    assert_eq!(advance.cause(), "advance:3");

    let timer = delivery("stepper-timer.json");
    assert_eq!(timer.kind, DeliveryKind::Event(Event::TimerFired { timer: 513 }));
    assert_eq!(timer.not_before_ms, Some(1_767_225_602_000));
    // And back: what the stepper dispatches has the same shape.
    let text = serde_json::to_value(&timer).expect("serializable");
    assert_eq!(
        text,
        serde_json::from_str::<serde_json::Value>(&workspace_file("events/stepper-timer.json")).expect("json")
    );
}
