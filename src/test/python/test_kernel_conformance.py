"""The official Jupyter kernel conformance suite (jupyter_kernel_test) against the oneml Java kernel.

Every message the kernel sends is checked against the protocol's schemas. Run from the Maven build by
oneml.kernel.ConformanceTest, with JUPYTER_PATH pointing at a kernelspec for the freshly built classes:

    JUPYTER_PATH=DIR ONEML_KERNEL_NAME=NAME /usr/bin/python3 -m unittest -v test_kernel_conformance
"""

import os
import time
import unittest

import jupyter_kernel_test
from jupyter_kernel_test.msgspec_v5 import validate_message

# a small XChart line chart, displayed as image/png
CHART = (
    'var c = new XYChartBuilder().width(300).height(200).title("squares").xAxisTitle("x").yAxisTitle("y").build();\n'
    'c.addSeries("y", new double[]{1, 2, 3}, new double[]{1, 4, 9});\n'
    "display(c);"
)


class OnemlKernelConformance(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ.get("ONEML_KERNEL_NAME", "java")
    language_name = "java"
    file_extension = ".jshell"

    code_hello_world = 'System.out.println("hello, world");'
    code_stderr = 'System.err.println("something went wrong");'

    completion_samples = [
        {"text": "Syst", "matches": {"System"}},
        {"text": "LoRAConfig.buil", "matches": {"builder()"}},
        {"text": "%lsm", "matches": {"lsmagic"}},
    ]
    complete_code_samples = ["1 + 1", "int x = 1;", "void f() {}", "%lsmagic", "var t = Table.create(\"t\");"]
    incomplete_code_samples = ["for (int i = 0; i < 3; i++) {", "int f(int x) {", "String s = \"a\" +"]
    invalid_code_samples = ["int x = ;", "1 + 1)"]

    code_inspect_sample = "Math.abs("

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"one" + "ml"', "result": "oneml"},
        {"code": 'Table.create("t", IntColumn.create("x", 1, 2, 3))', "mime": "text/html"},
        {"code": "LoRAConfig.builder().r(8).alpha(16).build()", "mime": "text/html"},
    ]
    code_display_data = [
        {"code": 'display(html("<b>bold</b>"));', "mime": "text/html"},
        {"code": CHART, "mime": "image/png"},
    ]

    code_history_pattern = "6 ? 7"
    supported_history_operations = ("tail", "range", "search")

    code_clear_output = 'System.out.println("soon gone"); clearOutput();'

    code_generate_error = 'throw new IllegalStateException("boom");'

    # --- beyond the standard suite -------------------------------------------------------------

    def _settle(self):
        time.sleep(0.3)
        self.flush_channels()

    def test_oneml_error_names_the_exception(self):
        self._settle()
        reply, outputs = self.execute_helper('throw new IllegalStateException("boom");')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "IllegalStateException")
        self.assertEqual(reply["content"]["evalue"], "boom")

    def test_oneml_compile_error(self):
        self._settle()
        reply, outputs = self.execute_helper('int x = "not a number";')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "CompilationException")
        self.assertIn("incompatible types", reply["content"]["evalue"])
        self.assertEqual([m["msg_type"] for m in outputs], ["error"])

    def test_oneml_inspect_bare_method_name(self):
        """Shift-Tab right after a method name shows its overloads, as it does inside the opened call."""
        self._settle()
        replies = {}
        for code in ("Math.max", "Math.max("):
            msg_id = self.kc.inspect(code, len(code))
            reply = self.get_non_kernel_info_reply(timeout=15)
            validate_message(reply, "inspect_reply", msg_id)
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertTrue(reply["content"]["found"], code)
            replies[code] = reply["content"]["data"]["text/plain"]
        self.assertIn("Math.max(int a, int b)", replies["Math.max"])
        self.assertEqual(replies["Math.max"], replies["Math.max("])

    def test_oneml_update_display(self):
        self._settle()
        reply, outputs = self.execute_helper('String id = display("first"); updateDisplay(id, "second");')
        self.assertEqual(reply["content"]["status"], "ok")
        types = [m["msg_type"] for m in outputs]
        self.assertIn("display_data", types)
        self.assertIn("update_display_data", types)
        shown = [m for m in outputs if m["msg_type"] == "display_data"][0]
        updated = [m for m in outputs if m["msg_type"] == "update_display_data"][0]
        self.assertEqual(shown["content"]["transient"]["display_id"], updated["content"]["transient"]["display_id"])
        self.assertEqual(updated["content"]["data"]["text/plain"], "second")

    def test_oneml_background_display(self):
        """display() from a thread the cell started reaches the cell after it finished."""
        self._settle()
        msg_id = self.kc.execute(
            'new Thread(() -> { try { Thread.sleep(500); } catch (InterruptedException e) { } display("from a thread"); }).start();'
        )
        reply = self.get_non_kernel_info_reply(timeout=15)
        self.assertEqual(reply["content"]["status"], "ok")
        deadline = time.time() + 10
        found = False
        while time.time() < deadline and not found:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except Exception:
                continue
            validate_message(msg)
            found = (msg["msg_type"] == "display_data"
                     and msg["parent_header"].get("msg_id") == msg_id
                     and msg["content"]["data"].get("text/plain") == "from a thread")
        self.assertTrue(found, "no display_data from the background thread")

    def test_oneml_magics(self):
        self._settle()
        reply, outputs = self.execute_helper("%time int k = 1 + 1;")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        self.assertIn("Wall time", text)
        reply, outputs = self.execute_helper("%classpath")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        self.assertIn("jjava-jupyter", text)

    def test_oneml_interrupt(self):
        # code that reacts to the interrupt stops cleanly; a busy loop that ignores it is stopped forcibly
        # each cell says when it runs, and the interrupt waits for that: on a slow or busy machine JShell may still be
        # compiling after a fixed sleep, and an interrupt that arrives before the code runs has nothing to stop
        # (one block, one snippet: the marker is printed by the very code the interrupt must stop)
        started = 'System.out.println("cell started"); System.out.flush();'
        for code, how in (("{ " + started + " Thread.sleep(60_000); }", "the code stopped"),
                          ("{ " + started + " long n = 0; while (true) { n++; } }", "stopped forcibly")):
            with self.subTest(code=code):
                self._settle()
                msg_id = self.kc.execute(code)
                self._await_stream(msg_id, "cell started", timeout=60)
                time.sleep(0.5)
                start = time.time()
                self.km.interrupt_kernel()
                reply = self.get_non_kernel_info_reply(timeout=20)
                validate_message(reply, "execute_reply", msg_id)
                self.assertEqual(reply["content"]["status"], "error")
                self.assertEqual(reply["content"]["ename"], "CellInterrupted")
                self.assertIn(how, reply["content"]["evalue"])
                self.assertLess(time.time() - start, 10)
                self._settle()
                reply, outputs = self.execute_helper("1 + 1")
                self.assertEqual(reply["content"]["status"], "ok")

    def _await_stream(self, msg_id, text, timeout):
        """Reads IOPub until the cell {msg_id} has printed {text}; fails after {timeout} seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
            except Exception:
                break
            if (msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == msg_id
                    and text in msg["content"].get("text", "")):
                return
        self.fail("the cell did not print %r within %d s" % (text, timeout))

    def test_oneml_output_while_interrupted(self):
        """A cell whose thread is interrupted can still print and display (ZeroMQ refuses sends from it otherwise)."""
        self._settle()
        reply, outputs = self.execute_helper(
            '{ Thread.currentThread().interrupt(); System.out.println("printed while interrupted");'
            ' display("shown while interrupted"); System.out.flush(); }'
        )
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        self.assertIn("printed while interrupted", text)
        shown = [m["content"]["data"].get("text/plain") for m in outputs if m["msg_type"] == "display_data"]
        self.assertIn("shown while interrupted", shown)


if __name__ == "__main__":
    unittest.main()
