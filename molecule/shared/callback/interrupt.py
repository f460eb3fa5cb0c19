# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test tool: end an ansible-playbook run abruptly, as a controller that dies or loses its
connection mid-run would, to prove the next run converges.

Enabled with ANSIBLE_CALLBACKS_ENABLED=interrupt and ANSIBLE_CALLBACK_PLUGINS pointing here.
MICROOPS_INTERRUPT_AT_TASK (N, counted over the whole run from 1) and MICROOPS_INTERRUPT_DELAY
(seconds): DELAY seconds after task N starts, SIGKILL goes to the run's workers (each in its own
session, with the connections it runs) and to the controller's process group, so the module then
running on a host is cut off or left to finish alone, and nothing is cleaned up. The controller
becomes the leader of its own group first, so the kill reaches nothing outside the run."""

from __future__ import annotations

DOCUMENTATION = r"""
name: interrupt
type: aggregate
short_description: Kill the run at a chosen task (a test tool)
description:
  - SIGKILL to the run's process group a set delay after the Nth task starts.
options: {}
"""

import multiprocessing
import os
import signal
import threading

from ansible.plugins.callback import CallbackBase


def _kill():
    # Each worker starts its own session (ansible/executor/process/worker.py calls os.setsid()),
    # so its group, with the connections it runs, is killed first, then the controller's own.
    for worker in multiprocessing.active_children():
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except OSError:  # gone already
            pass
    os.killpg(os.getpgrp(), signal.SIGKILL)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "interrupt"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._at = int(os.environ.get("MICROOPS_INTERRUPT_AT_TASK", "0"))
        self._delay = float(os.environ.get("MICROOPS_INTERRUPT_DELAY", "0"))
        self._started = 0
        if self._at:
            os.setpgid(0, 0)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started += 1
        if self._started == self._at:
            self._display.display(f"interrupt: SIGKILL {self._delay} s after task {self._at}, {task.get_name()}")
            timer = threading.Timer(self._delay, _kill)
            timer.daemon = True
            timer.start()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._display.display(f"interrupt: the run ended by itself after {self._started} tasks started")
