"""The report context: every value read from rule outputs, checked on the way in."""

from __future__ import annotations

import json

import pytest
import report_fixture

from lookbook.io import read_json, write_json
from lookbook.report import context as report_context
from lookbook.report import provenance


@pytest.fixture(scope="module")
def fixture_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    config = report_fixture.fixture_config(classifier={"compare": ["resnet34"]})
    inputs = report_fixture.write_results(root, config)
    report_fixture.write_benchmarks(root)
    return root, config, inputs


def build(root, config, inputs):
    benchmarks = provenance.read_benchmarks(root / "results" / "benchmarks")
    return report_context.build_context(config, inputs, benchmarks, root=root)


def test_context_reads_test_accuracy(fixture_tree):
    context = build(*fixture_tree)
    assert context["classifier"]["test_accuracy"] == pytest.approx(7 / 9)


def test_context_reads_best_epoch_accuracies(fixture_tree):
    context = build(*fixture_tree)
    assert context["classifier"]["best_train_accuracy"] == pytest.approx(0.62)
    assert context["classifier"]["best_val_accuracy"] == pytest.approx(0.6667)


def test_context_counts_images_and_exclusions(fixture_tree):
    context = build(*fixture_tree)
    assert context["data"]["images"] == 60
    assert context["data"]["excluded_total"] == 4


def test_context_split_shares_from_counts(fixture_tree):
    context = build(*fixture_tree)
    shares = {row["split"]: row["share"] for row in context["data"]["splits"]}
    assert shares == pytest.approx({"train": 0.75, "val": 0.1, "test": 0.15})


def test_reproduction_uses_study_file(fixture_tree):
    context = build(*fixture_tree)
    rows = {row["quantity"]: row for row in context["reproduction"]}
    study = report_context.load_study()
    assert rows["Test accuracy"]["study"] == study["accuracy"]["test"]
    assert rows["Test accuracy"]["run"] == pytest.approx(7 / 9)
    assert rows["Split train/val/test (%)"]["run"] == "75.0/10.0/15.0"
    assert rows["Split train/val/test (%)"]["study"] == "75/10/15"


def test_study_file_holds_reported_accuracies():
    study = report_context.load_study()
    assert study["accuracy"] == {"train": 0.9326, "val": 0.9126, "test": 0.9175}
    assert study["classes"] == 6
    assert study["classifier"]["epochs"] == 25


def test_differences_name_demo_data_and_scale(fixture_tree):
    context = build(*fixture_tree)
    text = "\n".join(context["differences"])
    assert "generated demo data" in text
    assert "resnet18, not resnet152" in text
    assert "32 px, not 224 px" in text
    assert "epochs: 2, not 25" in text


def test_differences_empty_for_study_setting(fixture_tree):
    context = build(*fixture_tree)
    run = dict(context["run"], data_kind="real", arch="resnet152", pretrained="imagenet", image_size=224, epochs=25, batch_size=128, lr=1e-4)
    assert report_context._differences_from_study(run, context["study"]) == []


def test_misclassified_lists_product_names(fixture_tree):
    context = build(*fixture_tree)
    misclassified = context["classifier"]["misclassified"]
    names = [row[1] for row in misclassified["rows"]]
    assert misclassified["count"] == 2
    assert set(names) <= set(report_fixture.TRICKY_NAMES)


def test_misclassified_sorted_by_confidence(fixture_tree):
    context = build(*fixture_tree)
    confidence = [row[4] for row in context["classifier"]["misclassified"]["rows"]]
    assert confidence == sorted(confidence, reverse=True)


def test_gan_skipped_subset_keeps_reason(fixture_tree):
    context = build(*fixture_tree)
    subsets = {entry["subset"]: entry for entry in context["gan"]["subsets"]}
    assert subsets["women-other"]["status"] == "skipped"
    assert "fewer than gan.min_class_images" in subsets["women-other"]["reason"]
    assert subsets["women-other"]["fid"] is None
    assert subsets["all"]["fid"] == pytest.approx(212.5)


def test_gan_status_without_reason_rejected(tmp_path):
    config = report_fixture.fixture_config()
    inputs = report_fixture.write_results(tmp_path, config)
    status_path = tmp_path / inputs["gan_status_women-other"]
    write_json(status_path, dict(read_json(status_path), reason=None))
    with pytest.raises(report_context.ReportInputError, match="women-other/status.json: status 'skipped' without a reason"):
        report_context.build_context(config, inputs, [], root=tmp_path)


def test_missing_field_names_file_and_field(tmp_path):
    config = report_fixture.fixture_config()
    inputs = report_fixture.write_results(tmp_path, config)
    evaluation_path = tmp_path / inputs["classifier_evaluation"]
    evaluation = read_json(evaluation_path)
    del evaluation["test_accuracy"]
    write_json(evaluation_path, evaluation)
    with pytest.raises(report_context.ReportInputError, match=r"evaluation.json: none of the fields \['test_accuracy'\]"):
        report_context.build_context(config, inputs, [], root=tmp_path)


def test_nan_metric_rejected(tmp_path):
    config = report_fixture.fixture_config()
    inputs = report_fixture.write_results(tmp_path, config)
    evaluation_path = tmp_path / inputs["classifier_evaluation"]
    text = evaluation_path.read_text().replace('"best_val_acc": 0.6667', '"best_val_acc": NaN')
    evaluation_path.write_text(text)
    with pytest.raises(report_context.ReportInputError, match=r"context\.\S+ is nan"):
        report_context.build_context(config, inputs, [], root=tmp_path)


def test_comparison_absent_without_compare(tmp_path):
    config = report_fixture.fixture_config()
    inputs = report_fixture.write_results(tmp_path, config)
    context = report_context.build_context(config, inputs, [], root=tmp_path)
    assert "classifier_comparison" not in inputs
    assert context["classifier"]["comparison"] is None


def test_context_is_json_serializable(fixture_tree):
    context = build(*fixture_tree)
    assert json.loads(json.dumps(context)) == context


def test_report_inputs_cover_every_gan_subset():
    config = report_fixture.fixture_config()
    inputs = report_context.report_inputs(config)
    for subset in ["all", "men-apparel", "men-accessories", "men-other", "women-apparel", "women-accessories", "women-other"]:
        assert inputs[f"gan_status_{subset}"] == f"results/gan/{subset}/status.json"
        assert inputs[f"fig_gan_{subset}_grid"] == f"figures/gan/{subset}/grid.png"
