"""Events the `scaffoldtest_69907dd64257463ea` module publishes (none yet).

An event is a fact in the past tense, named "scaffoldtest_69907dd64257463ea.<thing_happened>", that carries ids
rather than ORM objects:

    class Scaffoldtest69907dd64257463eaItemCreated(DomainEvent):
        event_name: ClassVar[str] = "scaffoldtest_69907dd64257463ea.item_created"

        item_id: int

Record it in the transaction of the change with `ioc.core.events.record_event(session, event)`; it is
published after the commit. Describe every event in docs/events.md (a test checks it).
"""
