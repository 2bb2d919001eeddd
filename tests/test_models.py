"""The models hold their rules: validation names the field, the value and what is allowed."""

import pytest
from pydantic import ValidationError

from taskkit import (
    Priority,
    ProjectCreate,
    Status,
    Task,
    TaskBase,
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
        ("title", "x" * 513, "at most 512 characters"),
        ("title", "", "at least 1 character"),
        ("title", "   ", "must not be blank"),
        ("title", 123, "valid string"),
        ("title", "nul\x00byte", "NUL"),
        ("title", "lone \ud800 surrogate", "unicode"),
        ("description", "d" * 1_048_577, "at most 1048576 characters"),
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


# Unknown keys: refused and named, never dropped (issue 13, item 1).


@pytest.mark.parametrize(
    ("model", "data", "key", "message"),
    [
        (TaskCreate, {"title": "t", "statuss": "completed"}, "statuss", "did you mean 'status'?"),
        (TaskCreate, {"title": "t", "priorty": "high"}, "priorty", "did you mean 'priority'?"),
        (TaskCreate, {"titel": "t"}, "titel", "did you mean 'title'?"),
        (TaskCreate, {"title": "t", "project": "Apollo"}, "project", "give project_id"),
        (TaskCreate, {"title": "t", "workers": ["w-1"]}, "workers", "taskkit.assign("),
        (TaskCreate, {"title": "t", "id": 7}, "id", "set by the database"),
        (TaskCreate, {"title": "t", "created_at": "2025-01-01"}, "created_at", "by the database"),
        (TaskCreate, {"title": "t", "updated_at": "2025-01-01"}, "updated_at", "by the database"),
        (TaskCreate, {"title": "t", "completed_at": "2025-01-01"}, "completed_at", "set status"),
        (TaskCreate, {"title": "t", "zzz": 1}, "zzz", "allowed: title, description, status"),
        (TaskUpdate, {"titel": "x"}, "titel", "did you mean 'title'?"),
        (TaskUpdate, {"completed_at": None}, "completed_at", "set status instead"),
        (TaskUpdate, {"workers": []}, "workers", "taskkit.assign("),
        (ProjectCreate, {"name": "p", "nmae": "q"}, "nmae", "did you mean 'name'?"),
        (ProjectCreate, {"name": "p", "id": 3}, "id", "set by the database"),
        (ProjectCreate, {"name": "p", "tasks": []}, "tasks", "project_id"),
        (WorkerCreate, {"id": "w", "name": "n", "nmae": "m"}, "nmae", "did you mean 'name'?"),
        (WorkerCreate, {"id": "w", "name": "n", "tasks": []}, "tasks", "taskkit.assign("),
    ],
)
def test_input_models_refuse_unknown_keys_naming_them_and_what_to_send(model, data, key, message):
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    errors = [e for e in info.value.errors() if e["type"] == "unknown_field"]
    assert [e["loc"] for e in errors] == [(key,)]
    assert message in errors[0]["msg"]
    assert repr(key) in errors[0]["msg"]
    with pytest.raises(ValidationError):  # keyword arguments too
        model(**data)


def test_unknown_key_message_is_the_one_line_the_issue_asks_for():
    with pytest.raises(ValidationError) as info:
        TaskCreate.model_validate({"title": "t", "statuss": "completed"})
    assert info.value.errors()[0]["msg"] == "unknown field 'statuss'; did you mean 'status'?"


def test_unknown_keys_are_reported_with_the_other_field_errors():
    with pytest.raises(ValidationError) as info:
        TaskCreate.model_validate({"title": "", "status": "done", "statuss": "x", "a{b}": 1})
    errors = {e["loc"]: e for e in info.value.errors()}
    assert set(errors) == {("title",), ("status",), ("statuss",), ("a{b}",)}
    assert errors[("status",)]["type"] == "enum"  # pydantic's own errors are kept as they were
    assert "'a{b}'" in errors[("a{b}",)]["msg"]  # braces in a key are not a template


def test_table_and_read_models_keep_accepting_rows_with_more_columns():
    # Read models are built from database rows and objects, not from callers: unchanged.
    row = {"id": 1, "title": "x", "created_at": "2025-01-01T00:00:00Z"}
    row |= {"updated_at": "2025-01-01T00:00:00Z", "workers": [], "extra_column": 1}
    assert TaskRead.model_validate(row).id == 1
    for model in (Task, TaskRead, TaskBase):
        assert model.model_config.get("extra") != "forbid"
