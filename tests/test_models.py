"""The models hold their rules: validation names the field, the value and what is allowed."""

import pytest
from pydantic import ValidationError

from taskkit import (
    Priority,
    ProjectCreate,
    Status,
    TaskCreate,
    TaskRead,
    TaskUpdate,
    WorkerCreate,
)


def test_status_and_priority_are_declared_once_in_their_natural_order():
    assert [s.value for s in Status] == ["pending", "in_progress", "completed"]
    assert [p.value for p in Priority] == ["low", "medium", "high"]


def test_task_create_defaults_to_pending_and_medium():
    task = TaskCreate(title="Write report")
    assert (task.status, task.priority, task.description, task.project_id) == (
        Status.pending,
        Priority.medium,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "done", "'pending', 'in_progress' or 'completed'"),
        ("priority", "urgent", "'low', 'medium' or 'high'"),
        ("priority", 3, "'low', 'medium' or 'high'"),
        ("title", "x" * 201, "at most 200 characters"),
        ("title", "", "at least 1 character"),
        ("title", "   ", "must not be blank"),
        ("title", 123, "valid string"),
        ("title", "nul\x00byte", "NUL"),
        ("title", "lone \ud800 surrogate", "unicode"),
        ("description", "d" * 10_001, "at most 10000 characters"),
        ("description", "nul\x00", "NUL"),
        ("project_id", "abc", "valid integer"),
    ],
)
def test_task_create_rejects_bad_field_naming_field_and_rule(field, value, message):
    data = {"title": "ok", field: value}
    with pytest.raises(ValidationError) as info:
        TaskCreate(**data)
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [(field,)]
    assert message in str(info.value)


def test_task_create_accepts_text_every_backend_can_store():
    title = "emoji 🎉, combining é, right-to-left עברית"
    assert TaskCreate(title=title).title == title


def test_task_update_keeps_only_the_fields_given():
    assert TaskUpdate(status="completed").model_dump(exclude_unset=True) == {"status": "completed"}
    assert TaskUpdate().model_dump(exclude_unset=True) == {}


def test_task_update_may_clear_the_description():
    assert TaskUpdate(description=None).model_dump(exclude_unset=True) == {"description": None}


@pytest.mark.parametrize("field", ["title", "status", "priority"])
def test_task_update_refuses_null_for_required_columns(field):
    with pytest.raises(ValidationError) as info:
        TaskUpdate(**{field: None})
    assert info.value.errors()[0]["loc"] == (field,)
    assert "cannot be null" in str(info.value)


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (ProjectCreate, {"name": ""}, "name"),
        (ProjectCreate, {"name": "n" * 101}, "name"),
        (WorkerCreate, {"id": "", "name": "Ann"}, "id"),
        (WorkerCreate, {"id": "w1", "name": " "}, "name"),
        (WorkerCreate, {"id": "w" * 65, "name": "Ann"}, "id"),
    ],
)
def test_project_and_worker_rules(model, data, field):
    with pytest.raises(ValidationError) as info:
        model(**data)
    assert info.value.errors()[0]["loc"] == (field,)


def test_task_read_requires_id_and_timestamps():
    with pytest.raises(ValidationError) as info:
        TaskRead(title="x")
    assert {e["loc"][0] for e in info.value.errors()} == {"id", "created_at", "updated_at"}
