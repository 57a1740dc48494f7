import { describe, expect, it } from "vitest";
import { pathOnly, RouteTable } from "../../src/server/gateway/route-table.js";

const table = new RouteTable([
  { path: "/todos" },
  { path: "/todos/{todoId}" },
  { method: "GET", path: "/todos/export" },
  { path: "/users/{userId}/todos/{todoId}" },
  { method: "DELETE", path: "/users/{userId}" },
  { path: "/" },
]);

describe("route table", () => {
  it("matches literals and placeholders, decoding parameters", () => {
    expect(table.match("GET", "/todos/a%20b")).toEqual({
      route: { path: "/todos/{todoId}" },
      params: { todoId: "a b" },
    });
    expect(table.match("PUT", "/users/7/todos/9")?.params).toEqual({ userId: "7", todoId: "9" });
  });

  it("prefers a literal segment over a placeholder", () => {
    expect(table.match("GET", "/todos/export")?.route.path).toBe("/todos/export");
    expect(table.match("POST", "/todos/export")?.route.path).toBe("/todos/{todoId}");
  });

  it("honours the method and ignores query and trailing slash", () => {
    expect(table.match("GET", "/users/7")).toBeUndefined();
    expect(table.match("delete", "/users/7?force=1")?.route.path).toBe("/users/{userId}");
    expect(table.match("GET", "/todos/")?.route.path).toBe("/todos");
    expect(table.match("GET", "/")?.route.path).toBe("/");
  });

  it("does not match empty placeholders or other lengths", () => {
    expect(table.match("GET", "/users//todos/1")).toBeUndefined();
    expect(table.match("GET", "/todos/1/2")).toBeUndefined();
  });

  it("strips query and fragment", () => {
    expect(pathOnly("/a/b?c=d#e")).toBe("/a/b");
    expect(pathOnly("/a#x")).toBe("/a");
  });
});
