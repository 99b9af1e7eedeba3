"""Per-language wording the generation ops fill into their templates."""

SETTING_HINTS = {
    "en": (
        "a port city in the 1800s",
        "a modern research laboratory",
        "a small farming village",
        "a long-duration space mission",
        "a family-run manufacturing firm",
        "a hospital ward at night",
        "a school district budget meeting",
        "an archaeological dig",
        "a mountain weather station",
        "a startup's first year",
        "a courtroom case",
        "a river delta ecosystem",
    ),
    "zh": (
        "十九世纪的一座港口城市",
        "一间现代研究实验室",
        "一个小农村",
        "一次长期太空任务",
        "一家家族制造企业",
        "夜间的医院病房",
        "一次学区预算会议",
        "一处考古发掘现场",
        "一座高山气象站",
        "一家初创公司的第一年",
        "一桩法庭案件",
        "一片河口三角洲生态系统",
    ),
}

PRINCIPLE_HELP = {
    "en": {
        "Bridging": "a chain: the answer of each question appears word for word in the next question",
        "Comparison": "each question asks the same attribute (a number, size or date) of a different named item",
        "Temporal": "each question asks when a different event happened (a year, date or time)",
        "Visual-Textual Alignment": "match what the image shows with facts stated in the text",
        "Spatial Reasoning": "positions, directions, sizes or layout of what the image shows",
        "Causal Inference": "causes and effects shown or implied by the image",
        "Contextual Synthesis": "combine the image with background knowledge from the context",
    },
    "zh": {
        "Bridging": "一条链：每个问题的答案原样出现在下一个问题里",
        "Comparison": "每个问题询问不同对象的同一属性（数值、大小或日期）",
        "Temporal": "每个问题询问不同事件发生的时间（年份、日期或时刻）",
        "Visual-Textual Alignment": "把图片所示内容与文字中的事实对应起来",
        "Spatial Reasoning": "图片中物体的位置、方向、大小或布局",
        "Causal Inference": "图片所示或隐含的因果关系",
        "Contextual Synthesis": "把图片与上下文中的背景知识结合起来",
    },
}

# labels of the assistant side of the curriculum rows
CURRICULUM_LABELS = {
    "en": {"answer": "Answer: ", "thinking": "Thinking: "},
    "zh": {"answer": "答案：", "thinking": "思考过程："},
}

# the agreement judge's control: a non-answer shown among the attempts, which a judge that reads them calls wrong
CONTROL_ANSWER = {"en": "I cannot tell from the text.", "zh": "无法从文中判断。"}
