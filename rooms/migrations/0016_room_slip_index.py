from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0015_replanned_verb"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="room",
            index=models.Index(
                fields=["org", "outcome", "slip_days"], name="rooms_room_org_id_c03449_idx"
            ),
        ),
    ]
