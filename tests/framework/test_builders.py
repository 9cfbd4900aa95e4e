"""YAML specs and Python builders give the same composites; an ablation is one line."""
import numpy as np

import greybox_processes as gb


def test_yaml_and_python_builder_agree(composites_dir, core):
    from_yaml = gb.build_document(composites_dir / "grn_cells.yaml", core=core)
    from_python = gb.build_document(gb.composites.grn_cells(), core=core)
    assert from_yaml["state"] == from_python["state"]
    with_params = gb.build_document(composites_dir / "grn_cells.yaml",
                                    params={"cells_per_type": 4, "noise": "sp"}, core=core)
    assert with_params["state"] == gb.composites.grn_cells(cells_per_type=4, noise="sp")["state"]


def test_the_noise_amplitude_default_is_the_kernels_one(composites_dir, core):
    """The builder, the YAML spec and the GRN process all default q to grn.kernel.DEFAULT_Q."""
    import inspect

    from greybox_processes.grn.kernel import DEFAULT_Q
    from greybox_processes.grn.process import GRN
    from greybox_processes.grn.population import PopulationGRN

    built = gb.build_document(composites_dir / "grn_cells.yaml", core=core)
    assert built["state"]["grn"]["config"]["q"] == DEFAULT_Q
    assert inspect.signature(gb.composites.grn_cells).parameters["q"].default == DEFAULT_Q
    assert GRN.config_schema["q"]["_default"] == DEFAULT_Q
    assert PopulationGRN.config_schema["q"]["_default"] == DEFAULT_Q


def test_ablation_by_override_and_by_keyword(composites_dir, core):
    """Switching the noise off (one override) leaves every cell at its steady state."""
    spec = composites_dir / "grn_cells.yaml"
    quiet = gb.run(spec, 3.0, params={"cells_per_type": 2},
                   overrides={"grn.config.q": 0.0}, core=core, progress=False)
    mrna = quiet["cells.mrna"].values
    np.testing.assert_allclose(mrna[-1], mrna[0], rtol=1e-9, atol=1e-12)
    same = gb.run(gb.composites.grn_cells(cells_per_type=2, grn_config={"q": 0.0}), 3.0,
                  core=core, progress=False)
    np.testing.assert_array_equal(same["cells.mrna"].values, mrna)


def test_swapping_the_process_address(core):
    """An ablation that swaps a process: a subclass registered under another name."""
    from greybox_processes.grn.process import GRN

    class QuietGRN(GRN):
        """GRN with noise forced off (test ablation)."""

        def initialize(self, config):
            self.config["q"] = 0.0
            super().initialize(config)

    core.register_link("QuietGRN", QuietGRN)
    document = gb.composites.grn_cells(cells_per_type=1, grn_address="local:QuietGRN")
    ds = gb.run(document, 2.0, core=core, progress=False)
    np.testing.assert_allclose(ds["cells.mrna"].values[-1], ds["cells.mrna"].values[0],
                               rtol=1e-9, atol=1e-12)
