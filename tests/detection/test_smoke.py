from tests.detection.harness import detection, matches


def test_contains_modifier_ignores_case() -> None:
    rule = detection(
        """
        selection:
          CommandLine|contains: 'WhoAmI'
        condition: selection
        """
    )
    assert matches(rule, [{"CommandLine": "cmd /c whoami /all"}, {"CommandLine": "dir"}]) == [
        True,
        False,
    ]
