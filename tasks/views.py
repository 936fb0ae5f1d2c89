from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from campaign.models import Campaign
from units.access import get_access

from .models import Task
from .selectors import plan_changes, task_detail

RECENT_CHANGES = 5


@login_required
def task_page(request, number: int):
    campaign = Campaign.current()
    try:
        task = task_detail(campaign, number)
    except Task.DoesNotExist as exc:
        raise Http404("没有这个任务") from exc
    responsibilities = list(task.responsibilities.all())
    is_office = get_access(request.user).is_office
    return render(
        request,
        "tasks/task_detail.html",
        {
            "campaign": campaign,
            "task": task,
            "lead": next((r for r in responsibilities if r.is_lead), None),
            "named_co": [r for r in responsibilities if not r.is_lead and not r.by_rule],
            "by_rule": [r for r in responsibilities if r.by_rule],
            "targets": list(task.targets.all()),
            "is_office": is_office,
            # The office edits the plan, so it sees what changed lately; others see the plan as it stands.
            "changes": list(plan_changes(task=task)[:RECENT_CHANGES]) if is_office else [],
        },
    )
