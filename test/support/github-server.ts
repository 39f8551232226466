/**
 * A local stand-in for the GitHub REST API's issue-comment endpoints, speaking the real wire format (JSON
 * bodies, Link-header pagination, 401/404 errors as GitHub sends them), so the real @actions/github client
 * can be driven over real HTTP in tests. No test-framework imports.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CommentJson {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: { login: string; id: number; type: 'User' | 'Bot' };
  created_at: string;
  updated_at: string;
  author_association: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface GitHubServer {
  url: string;
  /** Comments per "owner/repo#number". */
  comments: Map<string, CommentJson[]>;
  requests: RecordedRequest[];
  /** Adds a comment as another user (e.g. a person quoting the report). */
  seed(repo: string, issue: number, body: string, login: string, type?: 'User' | 'Bot'): CommentJson;
  close(): Promise<void>;
}

export interface GitHubServerOptions {
  /** The token the server accepts; the bot's identity for comments created with it. */
  token: string;
  botLogin?: string;
}

export async function startGitHubServer(o: GitHubServerOptions): Promise<GitHubServer> {
  const comments = new Map<string, CommentJson[]>();
  const requests: RecordedRequest[] = [];
  let nextId = 1000;
  let base = '';
  const bot = o.botLogin ?? 'github-actions[bot]';

  const make = (repo: string, issue: number, body: string, login: string, type: 'User' | 'Bot'): CommentJson => {
    const id = nextId++;
    const now = new Date().toISOString();
    return {
      id,
      node_id: `IC_${id}`,
      url: `${base}/repos/${repo}/issues/comments/${id}`,
      html_url: `https://github.com/${repo}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${base}/repos/${repo}/issues/${issue}`,
      body,
      user: { login, id: type === 'Bot' ? 41898282 : 1, type },
      created_at: now,
      updated_at: now,
      author_association: type === 'Bot' ? 'NONE' : 'MEMBER',
    };
  };

  const send = (res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json', ...headers });
    res.end(json === undefined ? undefined : JSON.stringify(json));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const body = raw ? JSON.parse(raw) : undefined;
    const u = new URL(req.url ?? '/', base);
    requests.push({ method: req.method ?? '', path: u.pathname + u.search, authorization: req.headers.authorization, body });
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${o.token}` && auth !== `Bearer ${o.token}`) {
      return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    }
    let m = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname);
    if (m) {
      const key = `${m[1]}#${m[2]}`;
      const list = comments.get(key) ?? [];
      if (req.method === 'GET') {
        const perPage = Math.min(Number(u.searchParams.get('per_page') ?? 30), 100);
        const page = Number(u.searchParams.get('page') ?? 1);
        const slice = list.slice((page - 1) * perPage, page * perPage);
        const last = Math.max(1, Math.ceil(list.length / perPage));
        const link = (p: number) => `<${base}${u.pathname}?per_page=${perPage}&page=${p}>`;
        const links = [...(page < last ? [`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`] : []), ...(page > 1 ? [`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`] : [])];
        return send(res, 200, slice, links.length ? { link: links.join(', ') } : {});
      }
      if (req.method === 'POST') {
        if (typeof body?.body !== 'string') return send(res, 422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.', status: '422' });
        const c = make(m[1]!, Number(m[2]), body.body, bot, 'Bot');
        comments.set(key, [...list, c]);
        return send(res, 201, c);
      }
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname);
    if (m) {
      const id = Number(m[2]);
      for (const [key, list] of comments) {
        const c = list.find((x) => x.id === id);
        if (!c || !key.startsWith(`${m[1]}#`)) continue;
        if (req.method === 'PATCH') {
          if (c.user.login !== bot) return send(res, 403, { message: 'Resource not accessible by integration', status: '403' });
          c.body = body.body;
          c.updated_at = new Date().toISOString();
          return send(res, 200, c);
        }
        if (req.method === 'DELETE') {
          comments.set(key, list.filter((x) => x.id !== id));
          res.writeHead(204);
          return res.end();
        }
      }
    }
    return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, { message: String(e) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    comments,
    requests,
    seed(repo, issue, body, login, type = 'User') {
      const c = make(repo, issue, body, login, type);
      comments.set(`${repo}#${issue}`, [...(comments.get(`${repo}#${issue}`) ?? []), c]);
      return c;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
