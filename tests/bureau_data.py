"""A small, seeded city for the bureau's reports, written straight into the tables, with a
plain-Python copy of every row so tests can count independently of the SQL under test."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
PROGRAMMES = ["nanyue_jiazheng", "yuecai_shifu"]
TYPES = ["employment_skills", "skill_upgrade"]
DISTRICTS = ["441802", "441881"]


@dataclass
class City:
    institutions: list[dict] = field(default_factory=list)
    evaluator: int = 0
    trainings: list[dict] = field(default_factory=list)
    certificates: list[dict] = field(default_factory=list)
    placements: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)


async def seed_city(connection, *, seed: int = 11, people: int = 40) -> City:
    rng = random.Random(seed)
    city = City()
    for i, district in enumerate(DISTRICTS * 2):
        agency_id = await connection.fetchval(
            "INSERT INTO agency (name, kind, district_code, credit_code) VALUES ($1, 'training', $2, $3) RETURNING id",
            f"培训学校{i}",
            district,
            f"91441800TRAIN{i:05d}",
        )
        city.institutions.append({"id": agency_id, "district": district})
    city.evaluator = await connection.fetchval(
        "INSERT INTO agency (name, kind, district_code, credit_code) VALUES ('评价中心', 'evaluation', '441802', "
        "'91441800EVAL000001') RETURNING id"
    )
    employer = await connection.fetchval(
        "INSERT INTO app_user (phone, password_hash, role, display_name) VALUES ('13700000000', 'x', 'employer', '林女士') "
        "RETURNING id"
    )
    for n in range(people):
        worker = await connection.fetchval(
            "INSERT INTO worker (real_name, gender, birth_date, id_number_encrypted, id_number_index, id_number_masked, "
            "phone, languages, district_codes, categories, skills, wage_min, wage_max, wage_unit) "
            "VALUES ($1, 'female', $2, '\\x00', $3, '4418**********0000', $4, '{}', $5, '{household}', '{}', 4000, 6000, "
            "'month') RETURNING id",
            f"学员{n}",
            date(1980 + n % 20, 1 + n % 12, 1 + n % 28),
            f"index-{n}",
            f"1380000{n:04d}",
            [rng.choice(DISTRICTS)],
        )
        for _ in range(rng.choice((1, 1, 2))):
            institution = rng.choice(city.institutions)
            finished = date(2026, 1, 1) + timedelta(days=rng.randint(0, 280))
            started = finished - timedelta(days=rng.randint(10, 40))
            status = "verified" if rng.random() < 0.85 else "pending"
            training = {
                "worker": worker,
                "programme": rng.choice(PROGRAMMES),
                "training_type": rng.choice(TYPES),
                "institution": institution["id"],
                "district": institution["district"],
                "month": finished.strftime("%Y-%m"),
                "started_on": started,
                "finished_on": finished,
                "status": status,
                "level": rng.choice((5, 4, 3)),
            }
            training["id"] = await connection.fetchval(
                "INSERT INTO training (worker, programme_code, training_type, course, occupation_code, level, institution, "
                "hours, started_on, finished_on, result, status) VALUES ($1, $2, $3, '家政服务员培训', '4-10-01-06', $4, $5, "
                "80, $6, $7, 'passed', $8) RETURNING id",
                worker,
                training["programme"],
                training["training_type"],
                training["level"],
                institution["id"],
                started,
                finished,
                status,
            )
            city.trainings.append(training)
        if rng.random() < 0.6:
            last = max(t["finished_on"] for t in city.trainings if t["worker"] == worker)
            issued = last + timedelta(days=rng.randint(-5, 40))
            level = rng.choice((5, 4, 3, 2))
            kind = rng.choice(("skill_level", "skill_level", "special_ability"))
            certificate = {
                "worker": worker,
                "issued_on": issued,
                "kind": kind,
                "level": level if kind == "skill_level" else None,
                "status": "verified" if rng.random() < 0.9 else "pending",
            }
            certificate["id"] = await connection.fetchval(
                "INSERT INTO certificate (worker, kind, occupation_code, occupation_name, level, certificate_no, issuer, "
                "issued_on, status) VALUES ($1, $2, '4-10-01-06', '家政服务员', $3, $4, $5, $6, $7) RETURNING id",
                worker,
                kind,
                certificate["level"],
                f"C{n:06d}",
                city.evaluator,
                issued,
                certificate["status"],
            )
            city.certificates.append(certificate)
        if rng.random() < 0.55:
            last = max(t["finished_on"] for t in city.trainings if t["worker"] == worker)
            start = last + timedelta(days=rng.randint(-20, 200))
            ended = rng.random() < 0.5
            placement = {
                "worker": worker,
                "start_date": start,
                "wage": rng.randrange(4000, 9000, 500),
                "status": "completed" if ended else "active",
                "end_date": start + timedelta(days=rng.randint(20, 300)) if ended else None,
            }
            # The dearer jobs are 月嫂 ones, priced per 单 of 26 days.
            placement["wage_unit"] = "term" if placement["wage"] >= 8000 else "month"
            category = "maternity" if placement["wage_unit"] == "term" else "household"
            request = await connection.fetchval(
                "INSERT INTO job_request (employer, category, skills, district_code, start_date, budget_min, budget_max, "
                "budget_unit, languages, status) VALUES ($1, $3, '{}', '441802', $2, 3000, 9000, $4, '{}', "
                "'filled') RETURNING id",
                employer,
                start,
                category,
                placement["wage_unit"],
            )
            offer = await connection.fetchval(
                "INSERT INTO offer (request, worker, made_by_user, wage, wage_unit, status, expires_at) "
                "VALUES ($1, $2, $3, $4, $6, 'accepted', $5) RETURNING id",
                request,
                worker,
                employer,
                placement["wage"],
                NOW,
                placement["wage_unit"],
            )
            placement["id"] = await connection.fetchval(
                "INSERT INTO placement (offer, request, worker, employer, start_date, end_date, wage, wage_unit, status) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8) RETURNING id",
                offer,
                request,
                worker,
                employer,
                start,
                placement["end_date"],
                placement["wage"],
                placement["status"],
                placement["wage_unit"],
            )
            city.placements.append(placement)
            if rng.random() < 0.7:
                overall = rng.choice((3.0, 3.5, 4.0, 4.5, 5.0))
                await connection.execute(
                    "INSERT INTO review (placement, author_role, ratings, overall, editable_until) "
                    "VALUES ($1, 'employer', '{}', $2, $3)",
                    placement["id"],
                    overall,
                    NOW,
                )
                city.reviews.append({"placement": placement["id"], "overall": overall})
    return city


def first_placement(city: City, training: dict) -> dict | None:
    after = [
        p for p in city.placements if p["worker"] == training["worker"] and p["start_date"] >= training["finished_on"]
    ]
    return min(after, key=lambda p: (p["start_date"], p["id"]), default=None)


def certified(city: City, training: dict) -> bool:
    return any(
        c["worker"] == training["worker"]
        and c["status"] == "verified"
        and training["started_on"] <= c["issued_on"] <= training["finished_on"] + timedelta(days=365)
        for c in city.certificates
    )
