"""Run a function from several threads at once and collect what went wrong."""
import threading


def run_in_threads(work, count: int, timeout: float = 60) -> list:
    """Call ``work(i)`` for i in range(count), each in its own thread, started together; the exceptions raised."""
    errors: list = []
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(timeout=10)
            work(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
