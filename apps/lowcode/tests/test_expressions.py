"""Safe expressions (depends_on, workflow conditions): the grammar, the refusals, and
evaluation from several threads at once (the server runs requests on threads)."""
import sys
import threading

import pytest

from lowcode.exceptions import ValidationError
from lowcode.expressions import evaluate


def test_expressions_and_refusals():
    doc = {"status": "Open", "amount": 5, "items": [{"qty": 2}]}
    assert evaluate("eval:doc.status=='Open' && doc.amount > 3", doc)
    assert not evaluate("eval:doc.status==='Closed' || doc.amount < 3", doc)
    assert evaluate("eval:len(doc.items) == 1 and doc.items[0].qty == 2", doc)
    assert evaluate("status", doc) and not evaluate("missing", doc) and evaluate("", doc)
    for bad in ("eval:doc.__class__", "eval:__import__('os')", "eval:open('/etc/passwd')", "eval:doc.("):
        with pytest.raises(ValidationError):
            evaluate(bad, doc)


def test_evaluation_from_several_threads_never_mixes_documents():
    """Each thread evaluates the same expressions on its own document; a shared
    evaluator answered with another thread's ``doc`` now and then."""
    threads, rounds = 4, 3000
    start = threading.Barrier(threads)
    wrong = []

    def work(i):
        doc = {"name": f"doc-{i}", "n": i, "even": i % 2 == 0}
        start.wait()
        for r in range(rounds):
            # the same texts in every thread, answers that differ by thread
            if evaluate("eval:doc.n % 2 == 0", doc) is not doc["even"] or \
                    evaluate("eval:doc.even and doc.name != 'doc-1'", doc) is not doc["even"] or \
                    evaluate("eval:doc.name == 'doc-1'", doc) is not (i == 1):
                wrong.append((i, r))
                return

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to meet the race
    try:
        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(previous)
    assert not wrong, f"wrong results in thread/round {wrong[:5]}"
