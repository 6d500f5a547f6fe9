/**
 * The fleet API as the page calls it: the signed-in token on every request, and the API's coded
 * error `{ error: { code, message } }` turned into an ApiError the views can show.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
}

export function createApi(token: () => string | null): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const tk = token();
    const headers: Record<string, string> = tk ? { authorization: `Bearer ${tk}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      throw new ApiError(0, 'UNREACHABLE', (err as Error).message);
    }
    const json = (res.status === 204 ? null : await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? 'HTTP', json?.error?.message ?? res.statusText);
    return json as T;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body) => call('PATCH', path, body),
  };
}
