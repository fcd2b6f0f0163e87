"""sy.aot: compile (trace + save + load), load, call; bad files and inputs; the GIL."""
import sys
import threading

import pytest

import switchyard as sy


def mlp_fn():
    w1, b1, w2 = sy.rand(8, 16), sy.rand(16), sy.rand(16, 4)
    return lambda x: sy.ops.sy.mm(sy.relu(sy.ops.sy.mm(x, w1) + b1), w2)


def test_compiled_model_runs_like_eager(tmp_path):
    fn = mlp_fn()
    model = sy.aot.compile(fn, sy.rand(5, 8), str(tmp_path / "mlp.sy"))
    x = sy.rand(5, 8)
    assert model(x).tolist() == fn(x).tolist()
    assert model.num_inputs == 1 and model.num_outputs == 1


def test_a_saved_model_loads_in_a_new_handle_and_the_batch_may_vary(tmp_path):
    fn = mlp_fn()
    path = tmp_path / "mlp.sy"
    sy.aot.compile(fn, sy.rand(5, 8), str(path))
    model = sy.aot.load(path)
    assert model.input_shapes == [(None, 8)]
    for batch in (1, 7):
        x = sy.rand(batch, 8)
        assert model(x).tolist() == fn(x).tolist()


def test_several_outputs_come_back_as_a_tuple(tmp_path):
    model = sy.aot.compile(lambda x: (x + 1, x * 2), sy.ones(3), str(tmp_path / "two.sy"))
    a, b = model(sy.ones(3))
    assert a.tolist() == [2.0, 2.0, 2.0] and b.tolist() == [2.0, 2.0, 2.0]


def test_wrong_inputs_are_errors_naming_the_input(tmp_path):
    model = sy.aot.compile(mlp_fn(), sy.rand(5, 8), str(tmp_path / "mlp.sy"))
    with pytest.raises(ValueError, match="takes 1 inputs, got 2"):
        model(sy.rand(5, 8), sy.rand(5, 8))
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        model(sy.ones(5, 8, dtype=sy.int64))
    with pytest.raises(ValueError, match=r"input 0 has shape \[5, 7\]"):
        model(sy.rand(5, 7))
    with pytest.raises(TypeError, match="must hold only tensors"):
        model(3)


def test_bad_files_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot open"):
        sy.aot.load(tmp_path / "missing.sy")
    path = tmp_path / "model.sy"
    sy.aot.compile(lambda x: x + 1, sy.ones(2), str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        sy.aot.load(path)


def test_weights_swap(tmp_path):
    w = sy.ones(3)
    model = sy.aot.compile(lambda x: x * w, sy.ones(3), str(tmp_path / "w.sy"))
    assert [t.tolist() for t in model.weights()] == [[1.0, 1.0, 1.0]]
    model.swap_weights([sy.full([3], 2.0)])
    assert model(sy.ones(3)).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="weight 0 has shape"):
        model.swap_weights([sy.ones(4)])


def test_a_call_releases_the_gil(tmp_path):
    # With a huge switch interval, the GIL changes hands only when a thread
    # gives it up: the main thread counts while the worker is inside the model
    # only if the call released it.
    w = sy.rand(384, 384)
    model = sy.aot.compile(lambda x: sy.ops.sy.mm(sy.ops.sy.mm(sy.ops.sy.mm(x, w), w), w),
                           sy.rand(384, 384), str(tmp_path / "big.sy"))
    x = sy.rand(384, 384)
    model(x)
    started, done = threading.Event(), [False]

    def work():
        started.set()
        for _ in range(3):
            model(x)
        done[0] = True

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        count = 0
        while not done[0]:
            count += 1
            if count % 64 == 0:
                import time
                time.sleep(0)  # lets the worker take the GIL back when it returns
        worker.join()
    finally:
        sys.setswitchinterval(old)
    assert count > 0, "the main thread never ran while the model was running"
