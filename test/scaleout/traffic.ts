/** Steady traffic for the scale-out fault tests: callers sending one decision after another, round-robin over nodes and segments. */

import type { DecisionNode, NativeDecision } from "./decision-node.js";
import { at, SEGMENT_CASES } from "./requests.js";

/** One request sent, tagged with the test's phase when it left, and its answer or failure. */
export interface Sent<T> {
  readonly tag: T;
  readonly segment: string;
  readonly onError: string;
  readonly node: string;
  readonly decision?: NativeDecision;
  readonly failure?: string;
}

export class Traffic<T> {
  readonly sent: Sent<T>[] = [];
  private pumping = true;
  private counter = 0;
  private done: Promise<void> | undefined;

  /**
   * `nodes` and `tag` are read as each request leaves, so a test can change the phase it records.
   * Each caller's subjects carry `run`, so runs do not share learned state.
   */
  constructor(
    private readonly nodes: () => readonly DecisionNode[],
    private readonly run: string,
    private readonly tag: () => T,
    private readonly callers = 4,
  ) {}

  start(): void {
    const caller = async (w: number): Promise<void> => {
      while (this.pumping) {
        const i = this.counter++;
        const nodes = this.nodes();
        const node = nodes[i % nodes.length];
        const c = SEGMENT_CASES[(i + w) % SEGMENT_CASES.length];
        if (!node || !c) return;
        const tag = this.tag();
        const sent = { tag, segment: c.segment, onError: c.onError, node: node.name };
        try {
          this.sent.push({ ...sent, decision: await node.decide(c.request(`${w}-${this.run}`, at(i))) });
        } catch (err) {
          this.sent.push({ ...sent, failure: String(err) });
        }
      }
    };
    this.done = Promise.all(Array.from({ length: this.callers }, (_, w) => caller(w))).then(() => undefined);
  }

  /** Stops sending and resolves once every caller's last request has come back. */
  async stop(): Promise<void> {
    this.pumping = false;
    await this.done;
  }
}
