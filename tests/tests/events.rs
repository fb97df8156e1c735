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

#[test]
fn the_timer_queue_event_carries_the_timer_delivery() {
    let event: serde_json::Value =
        serde_json::from_str(&workspace_file("events/stepper-sqs-timer.json")).expect("json");
    assert!(aws_adapters::timers::is_sqs_event(&event), "the stepper must see an SQS event");
    let deliveries = aws_adapters::timers::parse_sqs_event(&event).expect("SQS records of deliveries");
    assert_eq!(deliveries, vec![delivery("stepper-timer.json")]);
    // The body is exactly what SqsTimers sends: the delivery's own JSON.
    let body = event["Records"][0]["body"].as_str().expect("a body");
    assert_eq!(body, serde_json::to_string(&deliveries[0]).expect("serializable"));
}

#[test]
fn the_sweeper_tick_is_a_scheduled_event() {
    let tick: serde_json::Value = serde_json::from_str(&workspace_file("events/sweeper-tick.json")).expect("json");
    assert_eq!(tick["source"], "aws.events");
    assert_eq!(tick["detail-type"], "Scheduled Event");
    // Not mistaken for a timer batch or a delivery, should it reach the stepper.
    assert!(!aws_adapters::timers::is_sqs_event(&tick));
    assert!(serde_json::from_value::<Delivery>(tick).is_err());
}

#[test]
fn every_sample_event_is_json_and_described() {
    let readme = workspace_file("events/README.md");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let text = workspace_file(&format!("events/{name}"));
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(readme.contains(&format!("`{name}`")), "events/README.md does not describe {name}");
    }
}

#[test]
fn the_example_validate_event_is_the_example_order() {
    let event: serde_json::Value = serde_json::from_str(&workspace_file("events/example-validate.json")).expect("json");
    let input: serde_json::Value =
        serde_json::from_str(&workspace_file("examples/order-saga.input.json")).expect("json");
    assert_eq!(event, input["order"], "ValidateOrder's Payload is $.order");
}
