"""The OpenAPI 3.1 description of the workshop's JSON API. Results and errors reuse the
student API's schemas, so both documents describe a result the same way."""

from __future__ import annotations

from .workshop import MAX_POINTS, MAX_SAMPLES


def openapi_document() -> dict:
    """The OpenAPI 3.1 document of the workshop API."""
    from .web import openapi_document as student_document
    from .workshop_web import MAX_CONTENT_LENGTH, SUGGEST_SECONDS

    shared = student_document()["components"]["schemas"]

    def ref(name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    def json_content(schema: dict, example: dict | None = None) -> dict:
        content: dict = {"schema": schema}
        if example is not None:
            content["example"] = example
        return {"application/json": content}

    def error(description: str, schema: str = "Error") -> dict:
        return {"description": description, "content": json_content(ref(schema))}

    common = {
        "401": error("No token: send `Authorization: Bearer <token>` (`unauthorized`)."),
        "403": error("A wrong token (`forbidden`)."),
    }
    body_errors = {
        "400": error("The body is not a JSON object, lacks a field or has one of the wrong "
                     "type (`bad_request`, `invalid_answers`)."),
        "413": error(f"The body is over {MAX_CONTENT_LENGTH:,} bytes (`request_too_large`)."),
        "415": error("The body is not sent as `application/json` (`unsupported_media_type`)."),
        "422": error("The rubric is not valid: every problem with its field and fix "
                     "(`invalid_rubric`), or an id that is not a valid rubric id "
                     "(`invalid_id`, `id_mismatch`).", "InvalidRubric"),
    }
    rubric_id = {"name": "rubric_id", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"}}
    rubric_response = {"description": "The rubric.",
                       "content": json_content(ref("RubricEnvelope"))}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "essaycheck workshop API",
            "version": "1",
            "summary": "Draft a rubric, try it on marked answers, save it.",
            "description": (
                "The API behind the teacher's rubric workshop (`essaycheck workshop`). Every "
                "call needs the token the command prints: `Authorization: Bearer <token>`. "
                "A rubric is JSON with the fields of the rubric YAML file. Sample answers are "
                "neither stored nor logged."),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "security": [{"token": []}],
        "paths": {
            "/api/v1/rubrics": {"get": {
                "operationId": "listRubrics",
                "summary": "The rubrics in the workshop's folder",
                "responses": {"200": {"description": "Valid rubrics, and the problems of "
                                                     "files that are not valid.",
                                      "content": json_content(ref("RubricList"))}, **common},
            }},
            "/api/v1/rubrics/draft": {"post": {
                "operationId": "draftRubric",
                "summary": "Draft a rubric from a model answer (as `rubric extract` does)",
                "requestBody": {"required": True, "content": json_content(
                    ref("DraftRequest"),
                    {"id": "photosynthesis", "question": "How do plants make glucose?",
                     "model_answer": "Chlorophyll absorbs light energy. Carbon dioxide and "
                                     "water react to make glucose.", "max_score": 2})},
                "responses": {"200": {"description": "The draft, with the claims of the "
                                                     "model answer that did not become "
                                                     "points.",
                                      "content": json_content(ref("Draft"))},
                              **body_errors, **common},
            }},
            "/api/v1/rubrics/try": {"post": {
                "operationId": "tryRubric",
                "summary": "Score sample answers with a rubric; with marks, the agreement",
                "requestBody": {"required": True, "content": json_content(ref("TryRequest"))},
                "responses": {"200": {"description": "A result per answer, in input order.",
                                      "content": json_content(ref("Trial"))},
                              **body_errors, **common},
            }},
            "/api/v1/rubrics/suggest": {"post": {
                "operationId": "suggestChanges",
                "summary": "Keyword changes the teacher's marks point to, per point",
                "description": (
                    "From the marked sample answers (total marks, per-point marks or both): "
                    "alternatives to add or remove, each with the verdicts it would fix and "
                    "break, re-scored with the change applied, and quotes as evidence."),
                "requestBody": {"required": True,
                                "content": json_content(ref("SuggestRequest"))},
                "responses": {"200": {"description": "The suggestions, in point order.",
                                      "content": json_content(ref("SuggestionList"))},
                              **body_errors,
                              "503": error(f"The work took over {SUGGEST_SECONDS:g} s and was "
                                           "stopped (`suggest_too_long`): send fewer or "
                                           "shorter answers."),
                              **common},
            }},
            "/api/v1/rubrics/apply": {"post": {
                "operationId": "applySuggestion",
                "summary": "The rubric with one suggestion accepted, validated again",
                "requestBody": {"required": True, "content": json_content(ref("ApplyRequest"))},
                "responses": {"200": rubric_response, **body_errors, **common},
            }},
            "/api/v1/answers/csv": {"post": {
                "operationId": "loadAnswers",
                "summary": "Sample answers from a CSV in the format of `essaycheck score`",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file", "question_id"],
                               "properties": {
                                   "file": {"type": "string", "format": "binary",
                                            "description": "UTF-8 CSV: question_id, answer, "
                                                           "optional mark and point:<id>."},
                                   "question_id": {
                                       "type": "string",
                                       "description": "Rows for this id are read."}}}}}},
                "responses": {
                    "200": {"description": "The answers, as `answers` of a try request.",
                            "content": json_content({
                                "type": "object", "required": ["answers"],
                                "properties": {"answers": {"type": "array",
                                                           "items": ref("SampleAnswer")}}})},
                    "400": error("The file cannot be used: the message names the line and "
                                 "column to fix (`invalid_answers`)."),
                    **common},
            }},
            "/api/v1/rubrics/{rubric_id}": {
                "parameters": [rubric_id],
                "get": {
                    "operationId": "getRubric",
                    "summary": "One rubric of the folder",
                    "responses": {"200": rubric_response,
                                  "404": error("No valid rubric has this id."),
                                  "422": error("Not a valid rubric id (`invalid_id`)."),
                                  **common},
                },
                "put": {
                    "operationId": "saveRubric",
                    "summary": "Validate a rubric and save it into the folder",
                    "description": (
                        "Writes the file holding this id, else `<id>.yaml`, atomically; the "
                        "previous file is kept as `<file>.bak`."),
                    "requestBody": {"required": True,
                                    "content": json_content(ref("RubricEnvelope"))},
                    "responses": {
                        "200": {"description": "Saved.", "content": json_content(ref("Saved"))},
                        "409": error("`<id>.yaml` holds another rubric (`rubric_write`)."),
                        **body_errors, **common},
                },
            },
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                      "content": json_content({"type": "object"})},
                              **common},
            }},
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "The token `essaycheck workshop` "
                                                         "prints in its link."}},
            "schemas": {
                "Rubric": {
                    "type": "object",
                    "required": ["id", "question", "max_score", "model_answer", "points"],
                    "description": "The fields of a rubric YAML file (README, 'Rubrics').",
                    "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"},
                        "subject": {"type": "string"},
                        "question": {"type": "string"},
                        "max_score": {"type": "number", "exclusiveMinimum": 0},
                        "notes": {"type": "string"},
                        "model_answer": {"type": "string"},
                        "bands": {"type": "object",
                                  "description": "Points covered (as a string key) to mark.",
                                  "additionalProperties": {"type": "number"}},
                        "thresholds": {"type": "object"},
                        "mark_shift": {"type": "number"},
                        "points": {"type": "array", "minItems": 1, "maxItems": MAX_POINTS,
                                   "items": ref("Point")},
                        "context": {"type": "string"},
                    },
                },
                "Point": {
                    "type": "object",
                    "required": ["id", "text"],
                    "properties": {
                        "id": {"type": "string"},
                        "text": {"type": "string"},
                        "keywords": {"type": "array", "description": (
                            "Groups of alternatives: the answer meets a group with any one of "
                            "its words; a word ending in `*` matches any ending."),
                            "items": {"type": "array", "items": {"type": "string"}}},
                        "weight": {"type": "number", "exclusiveMinimum": 0},
                        "hint": {"type": "string"},
                        "accept": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "RubricEnvelope": {"type": "object", "required": ["rubric"],
                                   "properties": {"rubric": ref("Rubric")}},
                "Draft": {
                    "type": "object", "required": ["rubric", "claims", "merged", "left_out"],
                    "description": f"A draft holds at most {MAX_POINTS} points: over that, "
                                   "claims much like another are merged into it as accepted "
                                   "wordings, then the least distinctive are left out.",
                    "properties": {
                        "rubric": ref("Rubric"),
                        "claims": {"type": "integer", "description": "Claims the model answer "
                                                                     "makes."},
                        "merged": {"type": "array", "items": {
                            "type": "object", "required": ["point_id", "claim"],
                            "properties": {"point_id": {"type": "string"},
                                           "claim": {"type": "string"}}},
                            "description": "Claims now an accepted wording of that point."},
                        "left_out": {"type": "array", "items": {"type": "string"},
                                     "description": "Claims left out, in order."}}},
                "Saved": {"type": "object", "required": ["rubric", "file", "backup"],
                          "properties": {"rubric": ref("Rubric"),
                                         "file": {"type": "string",
                                                  "description": "The file written."},
                                         "backup": {"type": ["string", "null"],
                                                    "description": "The previous file."}}},
                "RubricSummary": {
                    "type": "object",
                    "required": ["id", "question", "subject", "max_score", "point_count"],
                    "properties": {"id": {"type": "string"}, "question": {"type": "string"},
                                   "subject": {"type": "string"},
                                   "max_score": {"type": "number"},
                                   "point_count": {"type": "integer"}},
                },
                "RubricList": {
                    "type": "object", "required": ["rubrics", "problems"],
                    "properties": {
                        "rubrics": {"type": "array", "items": ref("RubricSummary")},
                        "problems": {"type": "array", "items": {
                            "type": "object", "required": ["file", "field", "message", "fix"],
                            "properties": {k: {"type": "string"}
                                           for k in ("file", "field", "message", "fix")}}},
                    },
                },
                "DraftRequest": {
                    "type": "object", "required": ["id", "question", "model_answer"],
                    "properties": {
                        "id": {"type": "string"}, "question": {"type": "string"},
                        "model_answer": {"type": "string"},
                        "context": {"type": "string", "description": "Notes on the topic: "
                                                                     "help pick keywords."},
                        "max_score": {"type": ["number", "null"], "exclusiveMinimum": 0},
                    },
                },
                "SampleAnswer": {
                    "type": "object", "required": ["answer"],
                    "properties": {
                        "answer": {"type": "string"},
                        "mark": {"type": ["number", "null"], "minimum": 0,
                                 "description": "The teacher's mark, on the rubric's scale."},
                        "points": {"type": "object", "description": "The teacher's mark per "
                                   "point: 1 made, 0.5 half made, 0 not made.",
                                   "additionalProperties": {"enum": [1, 0.5, 0]}},
                    },
                },
                "TryRequest": {
                    "type": "object", "required": ["rubric", "answers"],
                    "properties": {"rubric": ref("Rubric"),
                                   "answers": {"type": "array", "maxItems": MAX_SAMPLES,
                                               "items": ref("SampleAnswer")}},
                },
                "SuggestRequest": {
                    "type": "object", "required": ["rubric", "answers"],
                    "properties": {"rubric": ref("Rubric"),
                                   "answers": {"type": "array", "maxItems": MAX_SAMPLES,
                                               "items": ref("SampleAnswer")},
                                   "until_next_try": {
                                       "type": "boolean", "default": False,
                                       "description": "Stop, with `superseded`, if a "
                                                      "trial is asked for before the "
                                                      "suggestions are ready."}},
                },
                "AnswerError": {"type": "object", "required": ["error", "message"],
                                "properties": {"error": {"type": "string"},
                                               "message": {"type": "string"}}},
                "Trial": {
                    "type": "object", "required": ["results", "order", "answers"],
                    "properties": {
                        "results": {"type": "array", "items": {"oneOf": [
                            ref("CheckResult"), ref("AnswerError")]},
                            "description": "Per answer, as /api/v1/check returns it, or why "
                                           "it could not be checked."},
                        "order": {"type": "array", "items": {"type": "integer"},
                                  "description": "Answer indices, disagreements first."},
                        "answers": {"type": "array", "items": {
                            "type": "object",
                            "required": ["index", "mark", "disagrees", "mark_difference",
                                         "points_disagree"],
                            "properties": {
                                "index": {"type": "integer"},
                                "mark": {"type": ["number", "null"]},
                                "disagrees": {"type": "boolean"},
                                "mark_difference": {"type": "number", "description":
                                                    "Rubric minus teacher, in whole marks."},
                                "points_disagree": {"type": "array",
                                                    "items": {"type": "string"}}}}},
                        "agreement": ref("Agreement"),
                    },
                },
                "Agreement": {
                    "type": "object",
                    "description": "Present when marks are given; null where undefined.",
                    "required": ["n", "pearson", "exact", "points"],
                    "properties": {
                        "n": {"type": "integer"},
                        "pearson": {"type": ["number", "null"]},
                        "exact": {"type": ["number", "null"]},
                        "adjacent": {"type": ["number", "null"]},
                        "mean_teacher": {"type": ["number", "null"]},
                        "mean_rubric": {"type": ["number", "null"]},
                        "points": {"type": "array", "items": {
                            "type": "object",
                            "required": ["point_id", "n", "precision", "recall"],
                            "properties": {"point_id": {"type": "string"},
                                           "n": {"type": "integer"},
                                           "precision": {"type": ["number", "null"]},
                                           "recall": {"type": ["number", "null"]},
                                           "human_made": {"type": "integer"},
                                           "predicted_made": {"type": "integer"}}}},
                        "unknown_points": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Suggestion": {
                    "type": "object",
                    "required": ["question_id", "point_id", "action", "term", "group", "fixes",
                                 "breaks", "evidence", "inferred"],
                    "properties": {
                        "question_id": {"type": "string"},
                        "point_id": {"type": "string"},
                        "action": {"enum": ["add", "remove"]},
                        "term": {"type": "string"},
                        "group": {"type": ["integer", "null"], "description":
                                  "Index of the keyword group; null: a new group."},
                        "fixes": {"type": "integer"},
                        "breaks": {"type": "integer"},
                        "evidence": {"type": "array", "items": {"type": "string"}},
                        "inferred": {"type": "boolean", "description":
                                     "Some verdicts were inferred from total marks."},
                    },
                },
                "SuggestionList": {"type": "object", "required": ["suggestions"],
                                   "properties": {
                                       "suggestions": {"type": "array",
                                                       "items": ref("Suggestion")},
                                       "superseded": {
                                           "type": "boolean", "description":
                                           "With `until_next_try`: true when a trial was "
                                           "asked for meanwhile and the work stopped (the "
                                           "list is then empty: ask again)."}}},
                "ApplyRequest": {"type": "object", "required": ["rubric", "suggestion"],
                                 "properties": {"rubric": ref("Rubric"),
                                                "suggestion": ref("Suggestion")}},
                "InvalidRubric": {
                    "type": "object", "required": ["error", "message", "status"],
                    "properties": {
                        **shared["Error"]["properties"],
                        "problems": {"type": "array", "items": {
                            "type": "object", "required": ["field", "message", "fix"],
                            "properties": {"field": {"type": "string", "examples": [
                                "points[1].keywords[0][2]"]},
                                "message": {"type": "string"}, "fix": {"type": "string"}}}},
                    },
                },
                **{name: shared[name] for name in ("CheckResult", "PointResult", "Span",
                                                    "Error")},
            },
        },
    }
