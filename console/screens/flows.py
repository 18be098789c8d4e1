"""The operator's actions as flows: what to ask, what to say will happen, and which commands to send.

Shared by every screen that shows machines, jobs or alerts. A flow reads the store to describe the effect exactly
("M-LDS-07 holds; its running job J-1042 pauses"), asks in a modal where the action stops production, and hands the
commands to the app, which sends them and reports the outcome. Nothing here changes the store: the new state arrives
on the event stream.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.api.commands import PAUSE_AFTER_JOB
from console.api.models import FINISHED_JOB_STATUSES, Job, Machine
from console.command_service import Command
from console.screens.alert_flows import AlertFlows
from console.screens.flow_names import job_label as _job_label
from console.screens.flow_names import job_names, machine_names
from console.screens.flow_names import machine_label as _label
from console.screens.flow_names import paused_why as _paused_why
from console.screens.modals import ConfirmAction, Confirmed, NoteDialog
from widgets.safe_text import clean


class ActionFlows(AlertFlows):
    """Flows for one app: the alert flows (:class:`AlertFlows`) and those of machines, nodes and jobs; screens call
    these with the ids under the cursor or marked."""

    # --- machines -----------------------------------------------------------------------------------------------

    def pause_or_resume_machines(self, machine_ids: Sequence[str]) -> None:
        """``p`` on machines: resume the paused ones; otherwise ask how to pause (now, or after the current job)."""
        machines = [m for i in machine_ids if (m := self.store.machines.get(i)) is not None]
        if not machines:
            return
        paused = [m for m in machines if m.state == "paused" or m.draining]
        if len(paused) == len(machines):
            self._resume_machines(machines)
            return
        to_pause = [m for m in machines if m not in paused]
        # Drain is offered only where every machine's source can do it (a printer's API can only pause now).
        drain = all(self.host.target_allows(PAUSE_AFTER_JOB, "machine", m.id) for m in to_pause)
        effects: list[str] = []
        for machine in to_pause:
            job = self.store.jobs.get(machine.job_id) if machine.job_id else None
            if job is not None and job.status == "running":
                later = "; after job: finishes it, then takes no more" if drain else ""
                effects.append(f"{_label(machine)}: now: holds, its running job {_job_label(job)} pauses{later}")
            else:
                effects.append(f"{_label(machine)}: stops taking work ({clean(machine.state, 20)} now)")
        if paused:
            effects.append(f"{len(paused)} marked machine(s) already paused are left as they are")
        title = f"Pause {len(to_pause)} machine(s)" if len(to_pause) > 1 else f"Pause {_label(to_pause[0])}"

        def answered(result: Confirmed | None) -> None:
            if result is None:
                return
            mode = result.choice or "now"
            commands = [
                Command("machine.pause", m.id, {"mode": mode, "reason": result.reason}, node_id=m.node_id)
                for m in to_pause
            ]
            what = "Pause" if mode == "now" else "Drain (pause after job)"
            self.host.send_commands(commands, what=f"{what} {self._names(to_pause)}")

        self.app.push_screen(
            ConfirmAction(
                title,
                effects,
                confirm_label="Pause",
                choices=[
                    ("now", "Pause now: hold the machine and its running job"),
                    ("after_job", "After the current job: finish it, then take no more (drain)"),
                ]
                if drain
                else None,
                reason_required=True,
            ),
            answered,
        )

    def _resume_machines(self, machines: list[Machine]) -> None:
        """Resuming restarts production: ask, with a reason, and say what restarts (the held job, or the next)."""
        effects = [self._machine_restart(m) for m in machines]
        title = f"Resume {len(machines)} machines" if len(machines) > 1 else f"Resume {_label(machines[0])}"

        def answered(result: Confirmed | None) -> None:
            if result is None:
                return
            commands = [Command("machine.resume", m.id, {"reason": result.reason}, node_id=m.node_id) for m in machines]
            self.host.send_commands(commands, what=f"Resume {self._names(machines)}")

        self.app.push_screen(
            ConfirmAction(title, effects, confirm_label="Resume", cancel_label="Keep paused", danger=False),
            answered,
        )

    def _machine_restart(self, machine: Machine) -> str:
        """What restarts when ``machine`` resumes: ``M-LDS-07 resumes; its job J-1042 (...) continues``."""
        who = f"{_label(machine)} ({_paused_why(machine)})"
        job = self.store.jobs.get(machine.job_id) if machine.job_id else None
        if job is not None and job.status not in FINISHED_JOB_STATUSES:
            done = f", {job.done_qty}/{job.quantity} done"
            if machine.draining and machine.state != "paused":
                return f"{who} takes new work again after its job {_job_label(job)}{done}"
            return f"{who} resumes; its job {_job_label(job)} continues{done}"
        queued = [j for j in self.store.jobs_for_machine(machine.id) if j.status in ("queued", "assigned")]
        if queued:
            return f"{who} resumes and starts its next job {_job_label(queued[0])}"
        return f"{who} resumes and takes the next job it is given (none is queued on it now)"

    def ready_machines(self, machine_ids: Sequence[str]) -> None:
        """``c``: the operator confirms a blocked machine is clear (bed emptied, part removed)."""
        machines = [m for i in machine_ids if (m := self.store.machines.get(i)) is not None]
        blocked = [m for m in machines if m.state == "blocked"]
        if not blocked:
            self.app.notify("Only a blocked machine can be confirmed clear", severity="warning", timeout=3)
            return
        commands = [Command("machine.ready", m.id, {}, node_id=m.node_id) for m in blocked]
        if len(blocked) == 1:
            machine = blocked[0]
            reason = clean(machine.state_reason or "blocked", 60)

            def answered_one(result: Confirmed | None) -> None:
                if result is not None:
                    commands[0].body["reason"] = result.reason or None
                    self.host.send_commands(commands, what=f"Ready {self._names(blocked)}")

            self.app.push_screen(
                NoteDialog(
                    f"Confirm {_label(machine)} is clear",
                    [f"It is blocked: {reason}.", self._next_job_line(machine)],
                    label="Note (optional)",
                    button="Machine is clear",
                ),
                answered_one,
            )
            return

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                for command in commands:
                    command.body["reason"] = result.reason
                self.host.send_commands(commands, what=f"Ready {len(blocked)} machines")

        self.app.push_screen(
            ConfirmAction(
                f"Confirm {len(blocked)} machines are clear",
                [
                    f"{_label(m)}: blocked ({clean(m.state_reason or '-', 40)}). {self._next_job_line(m)}"
                    for m in blocked
                ],
                confirm_label="They are clear",
            ),
            answered,
        )

    def _next_job_line(self, machine: Machine) -> str:
        """What a cleared machine starts: production restarts on it, so name the job."""
        queued = [j for j in self.store.jobs_for_machine(machine.id) if j.status in ("queued", "assigned")]
        if queued:
            return f"It starts its next job {_job_label(queued[0])}."
        return "It takes the next job it is given (none is queued on it now)."

    # --- nodes --------------------------------------------------------------------------------------------------

    def drain_or_resume_node(self, node_id: str | None) -> None:
        """``n``: drain a node (it takes no new jobs, running jobs finish), or resume a paused one."""
        node = self.store.nodes.get(node_id) if node_id else None
        if node is None:
            return
        name = f"{clean(node.name, 40)} ({clean(node.id, 30)})"
        if node.state == "paused":
            self._resume_node(node.id, name)
            return
        machines = self.store.machines_by_node(node.id)
        running = [m for m in machines if m.state == "running"]
        queued = sum(1 for j in self.store.jobs_for_node(node.id) if j.status in ("queued", "assigned"))
        effects = [
            f"Node {name} takes no new jobs ({len(machines)} machines)",
            f"{len(running)} running job(s) finish; {queued} queued job(s) wait or can be rerouted",
        ]

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                command = Command("node.pause", node.id, {"reason": result.reason}, node_id=node.id)
                self.host.send_commands([command], what=f"Drain node {name}")

        self.app.push_screen(ConfirmAction(f"Drain node {name}", effects, confirm_label="Drain"), answered)

    def _resume_node(self, node_id: str, name: str) -> None:
        machines = self.store.machines_by_node(node_id)
        queued = [j for j in self.store.jobs_for_node(node_id) if j.status in ("queued", "assigned")]
        effects = [f"Node {name} takes new jobs again ({len(machines)} machines)"]
        if queued:
            first = ", ".join(clean(j.id, 30) for j in queued[:5])
            more = f" and {len(queued) - 5} more" if len(queued) > 5 else ""
            effects.append(f"{len(queued)} queued job(s) can start: {first}{more}")
        else:
            effects.append("No job is queued on it now")

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                command = Command("node.resume", node_id, {"reason": result.reason}, node_id=node_id)
                self.host.send_commands([command], what=f"Resume node {name}")

        self.app.push_screen(
            ConfirmAction(
                f"Resume node {name}", effects, confirm_label="Resume", cancel_label="Keep drained", danger=False
            ),
            answered,
        )

    # --- jobs ---------------------------------------------------------------------------------------------------

    def pause_or_resume_jobs(self, job_ids: Sequence[str]) -> None:
        jobs = [
            j for i in job_ids if (j := self.store.jobs.get(i)) is not None and j.status not in FINISHED_JOB_STATUSES
        ]
        if not jobs:
            return
        if all(j.status == "paused" for j in jobs):
            self._resume_jobs(jobs)
            return
        to_pause = [j for j in jobs if j.status != "paused"]
        effects = [f"{_job_label(j)}: {clean(j.status, 20)} -> paused" for j in to_pause]

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                commands = [Command("job.pause", j.id, {"reason": result.reason}, node_id=j.node_id) for j in to_pause]
                self.host.send_commands(commands, what=f"Pause {self._job_names(to_pause)}")

        self.app.push_screen(ConfirmAction(f"Pause {len(to_pause)} job(s)", effects, confirm_label="Pause"), answered)

    def _resume_jobs(self, jobs: list[Job]) -> None:
        """Resuming a job restarts production on its machine: ask, with a reason, and name where it runs."""
        effects = []
        for job in jobs:
            machine = self.store.machines.get(job.machine_id) if job.machine_id else None
            where = f"on {_label(machine)}" if machine is not None else "when a machine takes it"
            effects.append(f"{_job_label(job)} continues {where}; {job.done_qty}/{job.quantity} done")
        title = f"Resume {len(jobs)} jobs" if len(jobs) > 1 else f"Resume {_job_label(jobs[0])}"

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                commands = [Command("job.resume", j.id, {"reason": result.reason}, node_id=j.node_id) for j in jobs]
                self.host.send_commands(commands, what=f"Resume {self._job_names(jobs)}")

        self.app.push_screen(
            ConfirmAction(title, effects, confirm_label="Resume", cancel_label="Keep paused", danger=False), answered
        )

    def cancel_jobs(self, job_ids: Sequence[str]) -> None:
        jobs = [
            j for i in job_ids if (j := self.store.jobs.get(i)) is not None and j.status not in FINISHED_JOB_STATUSES
        ]
        if not jobs:
            self.app.notify("Nothing to cancel: the job is finished", severity="warning", timeout=3)
            return
        effects = []
        for job in jobs:
            lost = " (its part in progress is lost)" if job.status in ("running", "paused") else ""
            effects.append(f"{_job_label(job)}: cancelled{lost}; {job.done_qty}/{job.quantity} done")

        def answered(result: Confirmed | None) -> None:
            if result is not None:
                commands = [Command("job.cancel", j.id, {"reason": result.reason}, node_id=j.node_id) for j in jobs]
                self.host.send_commands(commands, what=f"Cancel {self._job_names(jobs)}")

        self.app.push_screen(
            ConfirmAction(
                f"Cancel {len(jobs)} job(s)", effects, confirm_label="Cancel job(s)", cancel_label="Keep job(s)"
            ),
            answered,
        )

    def reroute_job(self, job_id: str | None) -> None:
        """``r``: fetch the server's candidates in the background, then let the operator choose."""
        job = self.store.jobs.get(job_id) if job_id else None
        if job is None:
            self.app.notify("No job to reroute here", severity="warning", timeout=3)
            return
        if job.status in FINISHED_JOB_STATUSES:
            self.app.notify(f"{clean(job.id, 30)} is {clean(job.status, 20)}: nothing to reroute", timeout=3)
            return
        self.app.run_worker(self._reroute(job), group="reroute", exclusive=True, exit_on_error=False)

    async def _reroute(self, job: Job) -> None:
        from console.api.errors import ClientError
        from console.screens.reroute import RerouteChoice, RerouteDialog
        from console.session import NotConnected

        try:
            candidates = await self.host.session.reroute_candidates(job.id, job.node_id)
        except NotConnected:
            self.app.notify("Not connected: cannot fetch reroute candidates", severity="error", markup=False)
            return
        except ClientError as error:
            self.app.notify(f"Reroute candidates: {error}", severity="error", markup=False, timeout=8)
            return

        def answered(choice: RerouteChoice | None) -> None:
            if choice is None:
                return
            body: dict[str, object] = {"reason": choice.reason, "restart": choice.restart}
            if choice.machine_id:
                body["machine_id"] = choice.machine_id
                target = self._place(choice.machine_id, None)
            else:
                body["auto"] = True
                best = next((c for c in candidates if not c.blocked), None)
                target = "the best candidate" + (f" (now {self._place(best.machine_id, best.node_id)})" if best else "")
            command = Command("job.reroute", job.id, body, node_id=job.node_id)
            self.host.send_commands([command], what=f"Reroute {clean(job.id, 30)} to {target}")
            self._tell_where_it_went(job.id, (job.machine_id, job.node_id))

        self.app.push_screen(
            RerouteDialog(job, candidates, self.store.machines, node_names=self._node_names()), answered
        )

    def _node_names(self) -> dict[str, str]:
        return {node.id: node.name for node in self.store.nodes.values()}

    def _place(self, machine_id: str | None, node_id: str | None) -> str:
        """``Leeds Bambu Lab X1E #2 (M-LDS-07) on Leeds (N-LEEDS)``: a machine and the node it is on."""
        machine = self.store.machines.get(machine_id) if machine_id else None
        node_id = machine.node_id if machine is not None else node_id
        node = self.store.nodes.get(node_id) if node_id else None
        on = ""
        if node is not None:
            on = f" on {clean(node.name, 40)} ({clean(node.id, 30)})"
        elif node_id:
            on = f" on {clean(node_id, 30)}"
        if machine is not None:
            return f"{_label(machine)}{on}"
        return f"{clean(machine_id, 30)}{on}" if machine_id else on.removeprefix(" on ") or "-"

    def _tell_where_it_went(self, job_id: str, before: tuple[str | None, str | None]) -> None:
        """When the move comes back on the event stream, say where the job went (machine and node): for ``auto``
        only the server knew. Gives up quietly after a minute (the command's own toast reports a failure)."""
        checks = 0

        def check() -> None:
            nonlocal checks
            checks += 1
            job = self.store.jobs.get(job_id)
            if job is not None and (job.machine_id, job.node_id) != before:
                timer.stop()
                self.app.notify(
                    f"{clean(job_id, 30)} went to {self._place(job.machine_id, job.node_id)}",
                    title="Rerouted",
                    timeout=8,
                    markup=False,
                )
            elif checks >= 300:
                timer.stop()

        timer = self.app.set_interval(0.2, check)

    # --- names for notifications --------------------------------------------------------------------------------

    @staticmethod
    def _names(machines: Sequence[Machine]) -> str:
        return machine_names(machines)

    @staticmethod
    def _job_names(jobs: Sequence[Job]) -> str:
        return job_names(jobs)
