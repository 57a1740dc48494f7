/** The pure side of AuthZEN search: which candidates a compiled policy's entities offer for a search. */

import type { AccessRequest, JsonObject, JsonValue, RequestContext } from "../model/request.js";
import type { CompiledPolicy, SearchCollection } from "./compiled.js";

export type { SearchCollection, SearchSettings } from "./compiled.js";

export type SearchKind = "subject" | "resource" | "action";

/** A valid search request: the searched-for entity carries only `type` (and maybe `properties`). */
export interface SearchRequest {
  readonly subject: { readonly type: string; readonly id?: string; readonly properties?: JsonObject };
  readonly action?: { readonly name: string; readonly properties?: JsonObject };
  readonly resource: { readonly type: string; readonly id?: string; readonly properties?: JsonObject };
  readonly context?: RequestContext;
}

/** One answer a search may give, with the request that must be allowed for it to be given. */
export interface SearchCandidate {
  readonly result: { readonly type: string; readonly id: string } | { readonly name: string };
  readonly request: AccessRequest;
}

type Entity = { type: string; id: string; properties?: JsonObject };

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** The collection's entities, or undefined when the policy's entities do not hold it as a map. */
function collection(policy: CompiledPolicy, from: SearchCollection): JsonObject | undefined {
  const data = policy.entities[from.entities];
  return isObject(data) ? data : undefined;
}

/**
 * Whether an input entity (one the caller identified) is known: its type is declared in the
 * `search:` section and its id is in that type's collection. Anything else finds nothing, even
 * where a policy would allow anyone or does not look at the type.
 */
function knownInput(
  policy: CompiledPolicy,
  declared: Readonly<Record<string, SearchCollection>>,
  entity: { type: string; id?: string },
): boolean {
  const from = Object.hasOwn(declared, entity.type) ? declared[entity.type] : undefined;
  if (from === undefined) return false;
  const data = collection(policy, from);
  return data !== undefined && entity.id !== undefined && Object.hasOwn(data, entity.id);
}

/**
 * The candidates of one type, by id in UTF-16 code-unit order, so pages are stable. Each carries
 * the properties its collection declares, under the properties the request gave the searched-for
 * entity (the entity's own attributes win).
 */
function entitiesOf(
  policy: CompiledPolicy,
  declared: Readonly<Record<string, SearchCollection>>,
  type: string,
  requested: JsonObject | undefined,
): Entity[] {
  const from = Object.hasOwn(declared, type) ? declared[type] : undefined;
  if (from === undefined) return [];
  const data = collection(policy, from);
  if (data === undefined) return [];
  const ids = Object.keys(data).sort();
  return ids.map((id) => {
    const attrs: JsonValue | undefined = from.properties === undefined ? undefined : propertiesOf(data[id], from);
    const properties = isObject(attrs) ? { ...(requested ?? {}), ...attrs } : requested;
    return properties === undefined ? { type, id } : { type, id, properties };
  });
}

function propertiesOf(entity: JsonValue | undefined, from: SearchCollection): JsonValue | undefined {
  if (!isObject(entity) || from.properties === undefined) return undefined;
  return Object.hasOwn(entity, from.properties) ? entity[from.properties] : undefined;
}

function accessRequest(subject: Entity, action: AccessRequest["action"], resource: Entity, context: unknown) {
  const request: Record<string, unknown> = { subject, action, resource };
  if (context !== undefined) request.context = context;
  return request as unknown as AccessRequest;
}

const entityOf = (e: SearchRequest["subject"]): Entity => {
  const out: Entity = { type: e.type, id: e.id ?? "" };
  if (e.properties !== undefined) out.properties = e.properties;
  return out;
};

/**
 * Every candidate answer to a search, in a stable order; empty when the policy has no `search:`
 * section, the searched-for type is not declared, or an input entity's type or id is unknown.
 * The engine decides each candidate's request; only allowed ones are results.
 */
export function searchCandidates(policy: CompiledPolicy, kind: SearchKind, request: SearchRequest): SearchCandidate[] {
  const settings = policy.search;
  if (settings === undefined) return [];
  const { subject, resource, context } = request;
  switch (kind) {
    case "subject": {
      if (!knownInput(policy, settings.resources, resource) || request.action === undefined) return [];
      const action = request.action;
      return entitiesOf(policy, settings.subjects, subject.type, subject.properties).map((s) => ({
        result: { type: s.type, id: s.id },
        request: accessRequest(s, action, entityOf(resource), context),
      }));
    }
    case "resource": {
      if (!knownInput(policy, settings.subjects, subject) || request.action === undefined) return [];
      const action = request.action;
      return entitiesOf(policy, settings.resources, resource.type, resource.properties).map((r) => ({
        result: { type: r.type, id: r.id },
        request: accessRequest(entityOf(subject), action, r, context),
      }));
    }
    case "action": {
      if (!knownInput(policy, settings.subjects, subject) || !knownInput(policy, settings.resources, resource)) {
        return [];
      }
      return settings.actions.map((name) => ({
        result: { name },
        request: accessRequest(entityOf(subject), { name }, entityOf(resource), context),
      }));
    }
  }
}
