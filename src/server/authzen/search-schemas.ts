/** JSON Schemas of the AuthZEN search endpoints, for the OpenAPI document. */

import { actionSchema, contextSchema, resourceSchema, subjectSchema } from "./schemas.js";

/** The searched-for entity: only `type` is needed; an `id` is ignored. */
const searchedFor = (description: string) => ({
  type: "object",
  description,
  required: ["type"],
  properties: {
    type: { type: "string", minLength: 1 },
    id: { type: "string", description: "ignored" },
    properties: { type: "object", additionalProperties: true },
  },
  additionalProperties: true,
});

const pageRequestSchema = {
  type: "object",
  description: "absent or a limit of 0: every result in one answer",
  properties: {
    token: { type: "string", description: "the previous answer's page.next_token" },
    limit: { type: "integer", minimum: 0 },
  },
  additionalProperties: true,
};

export const subjectSearchRequestSchema = {
  type: "object",
  required: ["subject", "action", "resource"],
  properties: {
    subject: searchedFor("the subject type searched for"),
    action: actionSchema,
    resource: resourceSchema,
    context: contextSchema,
    page: pageRequestSchema,
  },
  additionalProperties: true,
};

export const resourceSearchRequestSchema = {
  type: "object",
  required: ["subject", "action", "resource"],
  properties: {
    subject: subjectSchema,
    action: actionSchema,
    resource: searchedFor("the resource type searched for"),
    context: contextSchema,
    page: pageRequestSchema,
  },
  additionalProperties: true,
};

export const actionSearchRequestSchema = {
  type: "object",
  required: ["subject", "resource"],
  properties: { subject: subjectSchema, resource: resourceSchema, context: contextSchema, page: pageRequestSchema },
  additionalProperties: true,
};

const pageResponseSchema = {
  type: "object",
  description: "present when the request had a page or more results remain",
  properties: { next_token: { type: "string", description: "empty on the last page" } },
};

export const entitySearchResponseSchema = {
  type: "object",
  required: ["results"],
  properties: {
    page: pageResponseSchema,
    results: {
      type: "array",
      items: { type: "object", properties: { type: { type: "string" }, id: { type: "string" } } },
    },
  },
};

export const actionSearchResponseSchema = {
  type: "object",
  required: ["results"],
  properties: {
    page: pageResponseSchema,
    results: { type: "array", items: { type: "object", properties: { name: { type: "string" } } } },
  },
};
