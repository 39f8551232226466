import type { getOctokit } from '@actions/github';

export type Octokit = ReturnType<typeof getOctokit>;

export interface StickyCommentTarget {
  owner: string;
  repo: string;
  issueNumber: number;
  /** Hidden HTML comment that identifies this report among the PR's comments. */
  marker: string;
  /** Only comments by this login are ever updated or removed (e.g. "github-actions[bot]"). */
  botLogin: string;
}

export interface StickyResult {
  action: 'created' | 'updated';
  commentId: number;
  url: string;
  /** Extra copies from earlier races that were removed, so exactly one remains. */
  removed: number[];
}

/**
 * Posts the report as one comment per PR and updates it in place on later runs. A comment is ours only when
 * it carries the marker AND was written by the bot: a person quoting the report (marker included) is never
 * edited. If an earlier race left two of ours, the oldest is kept and the others are deleted.
 */
export async function upsertStickyComment(octokit: Octokit, t: StickyCommentTarget, body: string): Promise<StickyResult> {
  const text = body.includes(t.marker) ? body : `${t.marker}\n${body}`;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner: t.owner, repo: t.repo, issue_number: t.issueNumber, per_page: 100 });
  const ours = comments
    .filter((c) => c.user?.login === t.botLogin && (c.body ?? '').includes(t.marker))
    .sort((a, b) => a.id - b.id);
  if (ours.length === 0) {
    const { data } = await octokit.rest.issues.createComment({ owner: t.owner, repo: t.repo, issue_number: t.issueNumber, body: text });
    return { action: 'created', commentId: data.id, url: data.html_url, removed: [] };
  }
  const [keep, ...extra] = ours;
  const { data } = await octokit.rest.issues.updateComment({ owner: t.owner, repo: t.repo, comment_id: keep!.id, body: text });
  for (const c of extra) await octokit.rest.issues.deleteComment({ owner: t.owner, repo: t.repo, comment_id: c.id });
  return { action: 'updated', commentId: data.id, url: data.html_url, removed: extra.map((c) => c.id) };
}
