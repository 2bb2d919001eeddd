"""Jira's CSV export in the languages it is written in: column names, and how to tell a Jira
export in a language taskkit does not read from any other file.

Jira writes the header (and the month names of its dates) in the language of the user who
exports. English and Spanish headers come from real exports (see the fixtures' README);
Portuguese (Brazil) from code that reads pt-BR exports. For French, German and Italian no real
export was found: a file whose header has their word for the summary and the key is named as a
Jira export in that language and refused with what to do, never read as another format. The
month abbreviations of all six are read (:mod:`taskkit._importers.dates`).
"""

from taskkit._importers.reading import Raw

__all__ = [
    "CATEGORY_CHANGED",
    "JIRA_COLUMNS",
    "STATUS_CATEGORY",
    "jira_language",
    "looks_like_jira",
    "refusal",
    "refused_language",
]

# English name -> taskkit field, then each language's name for the same column.
_FIELDS = {
    "Issue key": "key",
    "Summary": "title",
    "Description": "description",
    "Status": "status",
    "Priority": "priority",
    "Project name": "project",
    "Assignee": "workers",
    "Created": "created_at",
    "Updated": "updated_at",
    "Resolved": "completed_at",
    "Resolution": "resolution",
    "Issue Type": "kind",
    "Labels": "labels",
}
_SPANISH = {
    "Clave de incidencia": "Issue key",
    "Resumen": "Summary",
    "Descripción": "Description",
    "Estado": "Status",
    "Prioridad": "Priority",
    "Nombre del proyecto": "Project name",
    "Persona asignada": "Assignee",
    "Creada": "Created",
    "Actualizada": "Updated",
    "Resuelta": "Resolved",
    "Resolución": "Resolution",
    "Tipo de Incidencia": "Issue Type",
    "Etiquetas": "Labels",
    "Categoría de estado": "Status Category",
    "Categoría de estado cambiada": "Status Category Changed",
}
_PORTUGUESE = {
    "Chave da item": "Issue key",
    "Chave do item": "Issue key",
    "Resumo": "Summary",
    "Descrição": "Description",
    "Prioridade": "Priority",
    "Responsável": "Assignee",
    "Criado": "Created",
    "Atualizado(a)": "Updated",
    "Resolvido": "Resolved",
    "Resolução": "Resolution",
    "Tipo de item": "Issue Type",
}
# Source column -> taskkit field, every language taskkit reads (the first present wins).
JIRA_COLUMNS = {
    "Issue key": "key",
    "Issue Key": "key",
    "Key": "key",
    **_FIELDS,
    "Work type": "kind",  # Jira's 2025 name for Issue Type
    **{
        name: _FIELDS[english]
        for name, english in {**_SPANISH, **_PORTUGUESE}.items()
        if english in _FIELDS
    },
}
STATUS_CATEGORY = ("Status Category", "Categoría de estado")
CATEGORY_CHANGED = ("Status Category Changed", "Categoría de estado cambiada")
_SUMMARY = {"English": "Summary", "Spanish": "Resumen", "Portuguese": "Resumo"}
_KEY = {
    "English": ("Issue key", "Issue Key", "Key"),
    "Spanish": ("Clave de incidencia",),
    "Portuguese": ("Chave da item", "Chave do item"),
}
# Languages whose export taskkit names but does not read: (summary words, key words).
_REFUSED = {
    "French": (("Résumé",), ("Clé", "Clé de ticket", "Clé du ticket")),
    "German": (("Zusammenfassung",), ("Schlüssel", "Vorgangsschlüssel")),
    "Italian": (("Riepilogo", "Sommario"), ("Chiave", "Chiave ticket")),
}


def looks_like_jira(raw: Raw) -> bool:
    """A Jira CSV in a language taskkit reads (English, Spanish, Portuguese)."""
    return raw.kind != "json" and jira_language(raw.header) in _SUMMARY


def jira_language(header: list[str]) -> str | None:
    """The language of a Jira export's header, or None when it is not one."""
    names = set(header)
    for language, summary in _SUMMARY.items():
        if summary in names and names.intersection(_KEY[language]):
            return language
    for language, (summaries, keys) in _REFUSED.items():
        if names.intersection(summaries) and (
            names.intersection(keys) or any(n.startswith(keys) for n in names)
        ):
            return language
    return None


def refused_language(header: list[str]) -> str | None:
    """The language of a Jira export taskkit does not read (French, German, Italian)."""
    language = jira_language(header)
    return language if language in _REFUSED else None


def refusal(header: list[str], language: str) -> str:
    """What to do with a Jira export in ``language``."""
    summaries, _ = _REFUSED[language]
    summary = next(n for n in header if n in summaries)
    return (
        f"this looks like a Jira export in {language} (column {summary!r}); taskkit reads Jira's "
        "column names in English, Spanish and Portuguese. Export again with Jira's language "
        "set to English (Profile > Personal settings > Language), or name the columns: "
        f'--from jira --map "{summary}=title" --map "STATUS_COLUMN=status" ... '
        "(dates with its month names are read)"
    )
