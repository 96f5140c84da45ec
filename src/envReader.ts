export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads one environment variable at a time, checked against what it expects; problems are
 * collected (one line each, naming the variable) for `loadConfig()` to report together.
 */
export class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Env;

  constructor(env: Env) {
    this.#env = env;
  }

  #raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  /** A required secret: reported by name only, its value never appears anywhere. */
  secret(name: string, meaning: string): string {
    const value = this.#raw(name);
    if (value === undefined) {
      this.problems.push(`${name}: required, ${meaning}`);
      return '';
    }
    return value;
  }

  optionalSecret(name: string): string | undefined {
    return this.#raw(name);
  }

  string(name: string, fallback: string): string {
    return this.#raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.#raw(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.#raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}: expected true or false, got ${JSON.stringify(value)}`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.#raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    return fallback;
  }

  list<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): readonly T[] {
    const value = this.#raw(name);
    if (value === undefined) return fallback;
    const items = value
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter((item) => item !== '');
    const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (items.length === 0 || unknown.length > 0) {
      this.problems.push(`${name}: expected a comma-separated list of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return [...new Set(items)] as T[];
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !protocols.includes(parsed.protocol)) {
      // The URL may embed a password, so it is not echoed.
      this.problems.push(`${name}: expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return undefined;
    }
    return value;
  }

  /** Two non-negative integers `<a>:<b>` (debug knobs); `shape` says what they mean. */
  pair(name: string, shape: string): readonly [number, number] | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    const match = /^(\d+):(\d+)$/.exec(value);
    if (match === null) {
      this.problems.push(`${name}: expected ${shape}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return [Number(match[1]), Number(match[2])];
  }

  /** A comma-separated list of {@link pair}s; empty when unset. */
  pairs(name: string, shape: string): ReadonlyArray<readonly [number, number]> {
    const value = this.#raw(name);
    if (value === undefined) return [];
    const pairs = value.split(',').map((item) => /^(\d+):(\d+)$/.exec(item.trim()));
    if (pairs.some((match) => match === null)) {
      this.problems.push(`${name}: expected ${shape}, got ${JSON.stringify(value)}`);
      return [];
    }
    return pairs.map((match) => [Number(match?.[1]), Number(match?.[2])] as const);
  }

  check(condition: boolean, problem: string): void {
    if (!condition) this.problems.push(problem);
  }
}

/** Shortest accepted `ADMIN_TOKEN`: 32 characters (e.g. `openssl rand -hex 16`) cannot be guessed over HTTP. */
