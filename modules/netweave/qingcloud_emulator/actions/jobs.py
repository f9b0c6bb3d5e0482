"""Jobs of asynchronous actions: content/development_docs/api/command_list/job/describe_jobs.md.
status: pending -> working -> successful | failed."""

from __future__ import annotations

from . import Body, Ctx, action, public


# content/development_docs/api/command_list/job/describe_jobs.md
@action("DescribeJobs", read_only=True)
def describe_jobs(ctx: Ctx) -> Body:
    p, zone = ctx.p, ctx.zone
    ids = p.many("jobs")
    statuses = p.many("status")
    job_action = p.text("job_action")
    jobs = [zone.jobs[j] for j in dict.fromkeys(ids) if j in zone.jobs] if ids else \
        list(reversed(zone.jobs.values()))
    jobs = [j for j in jobs if (not statuses or j["status"] in statuses)
            and (job_action is None or j["job_action"] == job_action)]
    offset = p.number("offset", 0) or 0
    limit = min(p.number("limit", 20) or 20, 100)
    return {"job_set": [public(j) for j in jobs[offset:offset + limit]], "total_count": len(jobs)}
