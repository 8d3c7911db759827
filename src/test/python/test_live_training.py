"""Training in a notebook cell of the oneml Java kernel, spoken to as Jupyter does: the live loss chart, and
interrupting a run (interrupt_mode is "message": an interrupt_request on the control channel).

Every message is schema-checked with jupyter_kernel_test's validator. Run from the Maven build by
oneml.kernel.LiveTrainingTest, with JUPYTER_PATH pointing at a kernelspec for the freshly built classes:

    JUPYTER_PATH=DIR ONEML_KERNEL_NAME=NAME /usr/bin/python3 -m unittest -v test_live_training
"""

import base64
import math
import os
import queue
import re
import time
import unittest

from jupyter_client.manager import start_new_kernel
from jupyter_kernel_test.msgspec_v5 import validate_message

KERNEL = os.environ.get("ONEML_KERNEL_NAME", "java")
SETUP = (
    "var base = Models.tiny();\n"
    "var full = oneml.data.Datasets.sentiment();\n"
    # 32 validation rows: validations stay short on a busy 2-core machine
    'var data = new oneml.data.TextDataset("sentiment", full.train(), full.validation().first(32), full.test());\n'
    'var model = Peft.apply(base, LoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj").build());'
)
CHART_TEXT = 'XYChart "Training and validation loss"'
# the kernel's throttle for chart images (NotebookProgress.CHART_INTERVAL_NANOS)
CHART_INTERVAL_S = 1.5


class LiveTraining(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120)
        reply, _ = cls.execute(SETUP, timeout=300)
        if reply["content"]["status"] != "ok":
            raise AssertionError("setting up the model failed: %s" % reply["content"])

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    @classmethod
    def execute(cls, code, timeout=120):
        """Runs a cell; returns its execute_reply and its IOPub messages up to the idle status."""
        msg_id = cls.kc.execute(code)
        return cls.reply_to(msg_id, timeout), cls.outputs_of(msg_id, timeout)

    @classmethod
    def reply_to(cls, msg_id, timeout):
        deadline = time.time() + timeout
        while True:
            msg = cls.kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
            if msg["parent_header"].get("msg_id") == msg_id:
                validate_message(msg, "execute_reply", msg_id)
                return msg

    @classmethod
    def outputs_of(cls, msg_id, timeout):
        deadline = time.time() + timeout
        out = []
        while True:
            msg = cls.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
            validate_message(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out
            out.append(msg)

    def value(self, code):
        reply, out = self.execute(code)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        results = [m for m in out if m["msg_type"] == "execute_result"]
        self.assertEqual(len(results), 1, out)
        return results[0]["content"]["data"]["text/plain"]

    @staticmethod
    def charts(out):
        return [m for m in out if m["msg_type"] in ("display_data", "update_display_data") and "image/png" in m["content"]["data"]]

    def test_live_loss_chart(self):
        start = time.time()
        reply, out = self.execute("var run = Train.of(model, data).steps(24).batchSize(8).evalEvery(12).learningRate(2e-3).run();", 300)
        seconds = time.time() - start
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])

        charts = self.charts(out)
        self.assertGreaterEqual(len(charts), 3, "a chart after the first step and one per validation (steps 12 and 24)")
        first = charts[0]
        self.assertEqual(first["msg_type"], "display_data")
        chart_id = first["content"]["transient"]["display_id"]
        for m in charts[1:]:
            self.assertEqual(m["msg_type"], "update_display_data", "the chart is updated in place")
            self.assertEqual(m["content"]["transient"]["display_id"], chart_id)
        for m in charts:
            self.assertEqual(m["content"]["data"]["text/plain"], CHART_TEXT)
            self.assertTrue(base64.b64decode(m["content"]["data"]["image/png"]).startswith(b"\x89PNG\r\n\x1a\n"))
        # throttled: an image per interval of the run, plus the first step's, the 2 validations' and the end's
        bound = math.ceil(seconds / CHART_INTERVAL_S) + 4
        self.assertLessEqual(len(charts), bound, "%d images in %.1f s" % (len(charts), seconds))

        # the progress line is a separate display, also updated in place, and ends with the summary
        lines = [m for m in out if m["msg_type"] in ("display_data", "update_display_data") and "image/png" not in m["content"]["data"]]
        line_id = lines[0]["content"]["transient"]["display_id"]
        self.assertNotEqual(line_id, chart_id)
        self.assertTrue(lines[-1]["content"]["data"]["text/plain"].startswith("done: TrainingRun(COMPLETED after 24 steps"))
        self.assertEqual(self.value("run.evaluations().rowCount()"), "2")

    def test_interrupting_a_training_cell(self):
        msg_id = self.kc.execute("var longRun = Train.of(model, data).steps(100000).batchSize(8).evalEvery(25).run();")
        # wait until the progress line has reported a few steps
        seen, deadline, before = 0, time.time() + 180, []
        while seen < 3:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                self.fail("the training cell reported no steps; messages: %s" % [m["msg_type"] for m in before])
            validate_message(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            before.append(msg)
            text = msg["content"].get("data", {}).get("text/plain", "")
            step = re.search(r"\] (\d+)/100000", text)
            if step:
                seen = int(step.group(1))
        interrupted_at = time.time()
        self.km.interrupt_kernel()
        reply = self.reply_to(msg_id, 120)
        took = time.time() - interrupted_at
        out = self.outputs_of(msg_id, 30)

        # the cell ends promptly, after the step in flight, with a message that says so
        content = reply["content"]
        self.assertEqual(content["status"], "error", content)
        self.assertEqual(content["ename"], "CellInterrupted", content)
        self.assertIn("training stopped between steps, interrupted after step", content["evalue"])
        self.assertNotIn("forcibly", content["evalue"])
        self.assertLess(took, 15, "the cell took %.1f s to stop after the interrupt" % took)
        errors = [m for m in out if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1, [m["msg_type"] for m in out])
        self.assertEqual(len(errors[0]["content"]["traceback"]), 1, "one readable line, not the kernel's stack")
        progress = [m["content"]["data"]["text/plain"] for m in before + out
                    if m["msg_type"] == "update_display_data" and "image/png" not in m["content"]["data"]]
        self.assertTrue(progress[-1].startswith("done: TrainingRun(INTERRUPTED after "), progress[-1])
        self.assertTrue(self.charts(out), "the chart gets its final update after the interrupt")

        # the kernel lives on, the run was returned and the model is whole
        summary = self.value('longRun.stopReason() + " " + longRun.stepsRun() + " " + longRun.history().rowCount()')
        reason, steps, rows = summary.strip('"').split()
        self.assertEqual(reason, "INTERRUPTED")
        self.assertGreaterEqual(int(steps), seen)
        self.assertEqual(steps, rows, "every step that ran is in the history")
        self.assertTrue(self.value('model.generate("mara lives in", 3)').strip('"'))
        self.assertEqual(self.value("Double.isFinite(Train.of(model, data).steps(3).batchSize(8).quiet().run().finalTrainLoss())"), "true")


if __name__ == "__main__":
    unittest.main()
